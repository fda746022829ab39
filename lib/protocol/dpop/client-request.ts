/**
 * DPoP on a client's requests (RFC 9449), shared by the sign-in client's token, userinfo and resource
 * requests: the proof handle in oauth4webapi's options, one retry when the server answers
 * `use_dpop_nonce`, and the check that a token asked for bound came bound.
 */
import * as oauth from 'oauth4webapi';
import { DpopNotBoundError } from '../../errors.js';

/**
 * Run a DPoP request, and once more when the server answers `use_dpop_nonce` (RFC 9449 §8): the
 * handle has kept the nonce from that answer, so the second proof carries it. Never more than once.
 */
export async function withNonceRetry<T>(
  dpop: oauth.DPoPHandle | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    if (dpop === undefined || !oauth.isDPoPNonceError(err)) throw err;
    return attempt();
  }
}

export function withDpop<T extends object>(
  options: T,
  dpop: oauth.DPoPHandle | undefined,
): T & { DPoP?: oauth.DPoPHandle } {
  return dpop === undefined ? options : { ...options, DPoP: dpop };
}

/** RFC 9449 §5: asked for a bound token, the IdP must say `token_type: DPoP`; a Bearer token is refused. */
export function checkBound(response: oauth.TokenEndpointResponse, dpop: oauth.DPoPHandle | undefined): void {
  if (dpop !== undefined && response.token_type !== 'dpop') {
    throw new DpopNotBoundError(
      'DPoP is on, but the IdP issued a token that is not DPoP-bound (token_type is not "DPoP")',
    );
  }
}
