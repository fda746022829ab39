/** The refresh-token grant (RFC 6749 §6); a new ID token, when sent, is validated like the first. */
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../../errors.js';
import { checkBound } from '../dpop/client-request.js';
import type { IdpConnection } from './idp-connection.js';
import { requestTokens, validateIdToken } from './token-grant.js';

export interface RefreshedTokens {
  response: oauth.TokenEndpointResponse;
  idToken?: string;
  claims?: Record<string, unknown>;
}

export async function refreshTokens(
  idp: IdpConnection,
  refreshToken: string,
  previousClaims: Record<string, unknown>,
  dpop?: oauth.DPoPHandle,
): Promise<RefreshedTokens> {
  const as = await idp.metadata();
  const { response, checked } = await requestTokens(idp, as, {
    grant: 'refresh_token',
    step: 'refresh',
    dpop,
    send: (client, auth, options) => oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, options),
    process: (tenant, client, answer) => oauth.processRefreshTokenResponse(tenant, client, answer),
  });
  checkBound(response, dpop);
  if (response.id_token === undefined) return { response };
  const validated = await validateIdToken(idp, checked, response);
  // OpenID Connect Core §12.2: a refreshed ID token must be about the same user.
  if (validated.claims['sub'] !== previousClaims['sub']) {
    throw new PortcullisError('ERR_ID_TOKEN_INVALID', 'refresh: the new ID token is about another "sub"', {
      status: 400,
    });
  }
  return { response, idToken: validated.idToken, claims: validated.claims };
}
