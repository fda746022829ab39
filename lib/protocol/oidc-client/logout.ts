/**
 * Logout's protocol steps: the back-channel logout token (Back-Channel Logout 1.0 §2.6) and the
 * RP-initiated logout URL (RP-Initiated Logout 1.0 §2).
 */
import { type LogoutTokenClaims, validateLogoutToken } from '../logout-token.js';
import { tenantMetadata } from '../tenant-metadata.js';
import type { IdpConnection } from './idp-connection.js';

/** Validate a back-channel logout token, signed by the IdP (its tenant's, for a templated issuer). */
export async function logoutToken(idp: IdpConnection, token: string): Promise<LogoutTokenClaims> {
  const as = await idp.metadata();
  return validateLogoutToken(token, idp.keySet(as), {
    issuer: tenantMetadata(as, idp.options.allowedTenants, token).issuer,
    audience: idp.options.client.clientID,
    algorithms: idp.idTokenAlgorithms(as),
    clockTolerance: idp.options.clockTolerance,
  });
}

/**
 * The end-session URL, or `undefined` when the IdP has no `end_session_endpoint`. The IdP hands
 * `state` back on its redirect to `postLogoutRedirectUri`.
 */
export async function endSessionUrl(
  idp: IdpConnection,
  idToken: string | undefined,
  postLogoutRedirectUri: string,
  state: string,
): Promise<URL | undefined> {
  const as = await idp.metadata();
  if (as.end_session_endpoint === undefined) return undefined;
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set('client_id', idp.options.client.clientID);
  url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
  url.searchParams.set('state', state);
  if (idToken !== undefined) url.searchParams.set('id_token_hint', idToken);
  return url;
}
