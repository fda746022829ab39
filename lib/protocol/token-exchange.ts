/**
 * RFC 8693 token exchange, for on-behalf-of calls: the user's access token (the subject token) is
 * exchanged at the token endpoint for a token meant for a downstream service. A request/process pair
 * on oauth4webapi's generic token endpoint functions; failures map like client credentials'.
 */
import * as oauth from 'oauth4webapi';
import type { ClientAuthMethod } from './client-auth.js';
import {
  type IssuedToken,
  processIssuedToken,
  type RequestedTokenType,
  tokenCall,
  tokenRequestOptions,
} from './client-credentials.js';
import type { HttpSettings } from './http.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export function tokenExchangeRequest(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  clientAuth: oauth.ClientAuth,
  subjectToken: string,
  params: ReadonlyArray<readonly [string, string]>,
  http: HttpSettings,
  dpop?: oauth.DPoPHandle,
): Promise<Response> {
  return oauth.genericTokenEndpointRequest(
    as,
    client,
    clientAuth,
    TOKEN_EXCHANGE_GRANT,
    [
      ['subject_token', subjectToken],
      ['subject_token_type', ACCESS_TOKEN_TYPE],
      ['requested_token_type', ACCESS_TOKEN_TYPE],
      ...params.map(([k, v]): [string, string] => [k, v]),
    ],
    tokenRequestOptions(http, as, dpop),
  );
}

export async function processTokenExchangeResponse(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  response: Response,
  issuedAt: number,
  requested: RequestedTokenType = 'Bearer',
  method?: ClientAuthMethod,
): Promise<IssuedToken> {
  return processIssuedToken(
    () => oauth.processGenericTokenEndpointResponse(as, client, response),
    issuedAt,
    requested,
    tokenCall(as, client, 'token_exchange', method),
  );
}
