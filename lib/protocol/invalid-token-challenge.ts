/**
 * Does a resource server's answer say "this access token is no good" (RFC 6750 §3.1)? Only a 401
 * whose `WWW-Authenticate` carries `error="invalid_token"` does: a 401 for any other reason
 * (no token expected, wrong scheme) is not fixed by a new token, so it is never retried.
 */
export function isInvalidTokenChallenge(status: number, wwwAuthenticate: unknown): boolean {
  if (status !== 401) return false;
  const header = Array.isArray(wwwAuthenticate) ? wwwAuthenticate.join(', ') : wwwAuthenticate;
  if (typeof header !== 'string') return false;
  // Quoted or token form, any case for the parameter name (RFC 7235 §2.1).
  return /(?:^|[\s,])error\s*=\s*(?:"invalid_token"|invalid_token(?![\w-]))/i.test(header);
}
