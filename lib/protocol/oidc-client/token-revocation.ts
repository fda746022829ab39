/**
 * Token revocation (RFC 7009 §2.1) at the IdP's `revocation_endpoint`, authenticated as this client,
 * with a `token_type_hint`. The IdP answers 200 for a token it no longer knows, too.
 */
import * as oauth from 'oauth4webapi';
import { requestOptions } from '../http.js';
import { idpError } from '../idp-error.js';
import type { IdpConnection } from './idp-connection.js';

export async function revokeToken(
  idp: IdpConnection,
  token: string,
  hint: 'refresh_token' | 'access_token',
): Promise<void> {
  const as = await idp.metadata();
  try {
    const answer = await oauth.revocationRequest(as, idp.client(), await idp.clientAuth(), token, {
      ...requestOptions(idp.http, idp.url(as, 'revocation_endpoint')),
      additionalParameters: { token_type_hint: hint },
    });
    await oauth.processRevocationResponse(answer);
  } catch (err) {
    throw await idpError(err, idp.call('token revocation', 'revocation', idp.url(as, 'revocation_endpoint')));
  }
}
