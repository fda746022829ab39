/**
 * The authorization request (OpenID Connect Core §3.1.2.1): its URL, with the parameters in it, signed
 * as one request object (JAR, RFC 9101) when configured, and pushed to the IdP first (PAR, RFC 9126)
 * when asked or required.
 */
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../../errors.js';
import type { IssuerMetadata } from '../discovery.js';
import { withDpop, withNonceRetry } from '../dpop/client-request.js';
import { requestOptions } from '../http.js';
import { idpError } from '../idp-error.js';
import { checkJwtResponseMode } from '../jarm.js';
import type { RequestObjects } from '../request-object.js';
import type { IdpConnection } from './idp-connection.js';

export interface AuthorizationUrlOptions {
  /** Push the parameters (RFC 9126) even when the IdP does not require it. */
  pushed?: boolean;
  /** The login's DPoP key (RFC 9449): a pushed request carries a proof of it. */
  dpop?: oauth.DPoPHandle | undefined;
}

/**
 * The authorization endpoint URL for these parameters. Pushed, the URL carries only `client_id` and
 * the `request_uri`, so nothing of the request shows in the browser.
 */
export async function authorizationUrl(
  idp: IdpConnection,
  requestObjects: RequestObjects,
  params: URLSearchParams,
  { pushed = false, dpop }: AuthorizationUrlOptions = {},
): Promise<URL> {
  const as = await idp.metadata();
  idp.options.profile?.checkIdp(as);
  if (as.authorization_endpoint === undefined) {
    throw new PortcullisError('ERR_DISCOVERY_FAILED', 'the IdP\'s metadata has no "authorization_endpoint"', {
      status: 503,
    });
  }
  const { clientID } = idp.options.client;
  const all = new URLSearchParams(params);
  all.set('client_id', clientID);
  all.set('redirect_uri', idp.options.redirectUri);
  all.set('response_type', 'code');
  checkJwtResponseMode(as, all.get('response_mode'));
  const sent = await requestObjects(as, idp.client(), all);
  const url = new URL(as.authorization_endpoint);
  if (pushed || as.require_pushed_authorization_requests === true) {
    const requestUri = await push(idp, as, sent, dpop);
    url.searchParams.set('client_id', clientID);
    url.searchParams.set('request_uri', requestUri);
    return url;
  }
  for (const [key, value] of sent) url.searchParams.append(key, value);
  return url;
}

/** RFC 9126: push the authorization parameters; returns the `request_uri`. */
async function push(
  idp: IdpConnection,
  as: IssuerMetadata,
  params: URLSearchParams,
  dpop: oauth.DPoPHandle | undefined,
): Promise<string> {
  if (as.pushed_authorization_request_endpoint === undefined) {
    throw new PortcullisError(
      'ERR_DISCOVERY_FAILED',
      'pushed authorization requests are on, but the IdP\'s metadata has no "pushed_authorization_request_endpoint"',
      { status: 503 },
    );
  }
  try {
    return await withNonceRetry(dpop, async () => {
      const answer = await oauth.pushedAuthorizationRequest(
        as,
        idp.client(),
        await idp.clientAuth(),
        params,
        withDpop(requestOptions(idp.http, idp.url(as, 'pushed_authorization_request_endpoint')), dpop),
      );
      return (await oauth.processPushedAuthorizationResponse(as, idp.client(), answer)).request_uri;
    });
  } catch (err) {
    throw await idpError(
      err,
      idp.call('pushed authorization request', 'par', idp.url(as, 'pushed_authorization_request_endpoint')),
    );
  }
}
