/**
 * The userinfo endpoint (OpenID Connect Core §5.3), with the user's access token (DPoP-bound or
 * Bearer); a `sub` that differs from the ID token's is refused (§5.3.2).
 */
import * as oauth from 'oauth4webapi';
import { withDpop, withNonceRetry } from '../dpop/client-request.js';
import { requestOptions } from '../http.js';
import { idpError } from '../idp-error.js';
import type { IdpConnection } from './idp-connection.js';

export async function fetchUserinfo(
  idp: IdpConnection,
  accessToken: string,
  expectedSub: string,
  dpop?: oauth.DPoPHandle,
): Promise<oauth.UserInfoResponse> {
  const as = await idp.metadata();
  const client = idp.client();
  try {
    return await withNonceRetry(dpop, async () => {
      const answer = await oauth.userInfoRequest(
        as,
        client,
        accessToken,
        withDpop(requestOptions(idp.http, idp.url(as, 'userinfo_endpoint')), dpop),
      );
      return oauth.processUserInfoResponse(as, client, expectedSub, answer);
    });
  } catch (err) {
    throw await idpError(err, {
      ...idp.call('userinfo', 'userinfo', idp.url(as, 'userinfo_endpoint')),
      code: 'ERR_USERINFO_FAILED',
    });
  }
}
