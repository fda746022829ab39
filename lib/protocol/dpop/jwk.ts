/**
 * The two hashes DPoP is built on, in one place for the client and the server sides:
 * the RFC 7638 JWK thumbprint (a token's `cnf.jkt`) and `ath`, the hash of the access token.
 */
import { createHash } from 'node:crypto';

/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
export const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * RFC 7638 SHA-256 thumbprint, synchronously: the required members, in order, as JSON. Throws a
 * TypeError for a key type DPoP does not use.
 */
export function jwkThumbprint(jwk: { readonly kty?: string | undefined }): string {
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? ''];
  if (members === undefined) throw new TypeError('unsupported key type');
  const canonical = JSON.stringify(
    Object.fromEntries(members.map((m) => [m, (jwk as Record<string, unknown>)[m]])),
  );
  return createHash('sha256').update(canonical).digest('base64url');
}

/** `ath` (RFC 9449 §4.2): base64url SHA-256 of the access token. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}
