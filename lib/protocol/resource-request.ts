/**
 * A request to a resource server with a signed-in user's access token: `Authorization: Bearer`, or for
 * a DPoP-bound token `Authorization: DPoP` with a fresh proof (`htm`, `htu`, `ath`, the server's
 * nonce), and one retry when the server answers `use_dpop_nonce`. The answer is returned as it is,
 * 401 and 403 included; redirects are not followed.
 */
import * as oauth from 'oauth4webapi';
import { withDpop, withNonceRetry } from './dpop/client-request.js';
import { type HttpSettings, requestOptions } from './http.js';

export interface ResourceCall {
  readonly accessToken: string;
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly body: oauth.ProtectedResourceRequestBody;
  readonly dpop: oauth.DPoPHandle | undefined;
}

export async function resourceRequest(http: HttpSettings, call: ResourceCall): Promise<Response> {
  const { accessToken, method, url, headers, body, dpop } = call;
  const options = withDpop(requestOptions(http, url), dpop);
  const send = async () => {
    try {
      return await oauth.protectedResourceRequest(accessToken, method, url, headers, body, options);
    } catch (err) {
      // A challenge is an answer, not a failure: the caller reads the 401 or 403 itself.
      if (err instanceof oauth.WWWAuthenticateChallengeError && !oauth.isDPoPNonceError(err)) {
        return err.response;
      }
      throw err;
    }
  };
  try {
    return await withNonceRetry(dpop, send);
  } catch (err) {
    if (err instanceof oauth.WWWAuthenticateChallengeError) return err.response; // a second nonce challenge
    throw err;
  }
}
