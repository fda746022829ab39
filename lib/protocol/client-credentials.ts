/**
 * The client-credentials grant (RFC 6749 §4.4) as a request/process pair: `clientCredentialsRequest()`
 * only builds and sends (retries wrap it), `processClientCredentialsResponse()` only validates and
 * maps failures to portcullis errors. The protocol itself is oauth4webapi's.
 */
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { DpopNotBoundError, PortcullisError } from '../errors.js';
import type { ClientAuthMethod } from './client-auth.js';
import { type HttpSettings, requestOptions } from './http.js';
import { type IdpGrant, idpError } from './idp-error.js';

/** A token as the agent keeps it: epoch milliseconds, counted from when the request was sent. */
export interface IssuedToken {
  readonly access_token: string;
  readonly token_type: string;
  readonly issued_at: number;
  readonly expires_at: number;
  readonly scope?: string;
}

/** Lifetime assumed when the IdP sends no `expires_in` (RFC 6749 §5.1 makes it only RECOMMENDED). */
export const DEFAULT_TOKEN_LIFETIME = 300;

/** The token type a request asked for: `DPoP` when it carried a proof (RFC 9449 §5). */
export type RequestedTokenType = 'Bearer' | 'DPoP';

/** oauth4webapi's options for a token request: ours, plus the DPoP handle that adds the proof. */
export function tokenRequestOptions(
  http: HttpSettings,
  as: oauth.AuthorizationServer,
  dpop: oauth.DPoPHandle | undefined,
): ReturnType<typeof requestOptions> & oauth.DPoPRequestOptions {
  const options = requestOptions(http, as.token_endpoint);
  return dpop === undefined ? options : { ...options, DPoP: dpop };
}

/** Send one client-credentials token request; with `dpop`, it carries a fresh proof. */
export function clientCredentialsRequest(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  clientAuth: oauth.ClientAuth,
  params: ReadonlyArray<readonly [string, string]>,
  http: HttpSettings,
  dpop?: oauth.DPoPHandle,
): Promise<Response> {
  return oauth.clientCredentialsGrantRequest(
    as,
    client,
    clientAuth,
    params.map(([k, v]) => [k, v]),
    tokenRequestOptions(http, as, dpop),
  );
}

/**
 * Validate a token response. `issuedAt` is when the request was sent: counting the lifetime from
 * there, not from the answer, keeps network and IdP latency on the safe side of expiry.
 */
export async function processClientCredentialsResponse(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  response: Response,
  issuedAt: number,
  requested: RequestedTokenType = 'Bearer',
  method?: ClientAuthMethod,
): Promise<IssuedToken> {
  return processIssuedToken(
    () => oauth.processClientCredentialsResponse(as, client, response),
    issuedAt,
    requested,
    tokenCall(as, client, 'client_credentials', method),
  );
}

/** Who asked what, for a failed token request's message: the endpoint, the client and its method. */
export interface TokenCall {
  readonly url: string | undefined;
  readonly clientID: string;
  readonly method: ClientAuthMethod | undefined;
  readonly grant: IdpGrant;
}

export function tokenCall(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  grant: IdpGrant,
  method: ClientAuthMethod | undefined,
): TokenCall {
  return { url: as.token_endpoint, clientID: client.client_id, method, grant };
}

/** Run one of oauth4webapi's token response checks and keep its result as an IssuedToken. */
export async function processIssuedToken(
  check: () => Promise<oauth.TokenEndpointResponse>,
  issuedAt: number,
  requested: RequestedTokenType,
  call: TokenCall,
): Promise<IssuedToken> {
  let result: oauth.TokenEndpointResponse;
  try {
    result = await check();
  } catch (err) {
    throw await tokenRequestError(err, call);
  }
  return issuedToken(result, issuedAt, requested);
}

/**
 * The checked token response as the agent keeps it (lifetime from `issuedAt`). The token type must
 * be the one asked for: a Bearer token where a DPoP-bound one was asked for means the IdP ignored
 * the proof (RFC 9449 §5), and the agent refuses it rather than send a bearer token its user did not
 * want ({@link DpopNotBoundError}); a DPoP token nobody asked for could not be used.
 */
export function issuedToken(
  result: oauth.TokenEndpointResponse,
  issuedAt: number,
  requested: RequestedTokenType = 'Bearer',
): IssuedToken {
  if (requested === 'DPoP' && result.token_type === 'bearer') {
    throw new DpopNotBoundError(
      'token request failed: the IdP issued a Bearer token where DPoP was asked for',
    );
  }
  if (result.token_type !== requested.toLowerCase()) {
    throw new PortcullisError(
      'ERR_TOKEN_REQUEST_FAILED',
      `token request failed: the token_type is not ${requested}`,
      { status: 502 },
    );
  }
  const lifetime =
    typeof result.expires_in === 'number' && result.expires_in >= 0
      ? result.expires_in
      : DEFAULT_TOKEN_LIFETIME;
  const token: IssuedToken = {
    access_token: result.access_token,
    token_type: requested,
    issued_at: issuedAt,
    expires_at: expiresAt(result.access_token, issuedAt, lifetime),
  };
  return result.scope === undefined ? token : { ...token, scope: result.scope };
}

/**
 * `expires_in` is whole seconds, and a JWT's `exp` is counted from an `iat` rounded down: the token
 * may die up to a second before `issuedAt + expires_in`, which matters for 2-second tokens. When the
 * token is a JWT, its `exp` (read, not verified: it can only make us more careful) corrects that
 * rounding, and only that, so that a skewed IdP clock cannot shrink the lifetime to nothing.
 */
function expiresAt(accessToken: string, issuedAt: number, lifetime: number): number {
  const byExpiresIn = issuedAt + lifetime * 1000;
  let exp: unknown;
  try {
    exp = decodeJwt(accessToken).exp;
  } catch {
    return byExpiresIn; // opaque token
  }
  if (typeof exp !== 'number') return byExpiresIn;
  return Math.max(issuedAt, byExpiresIn - 1000, Math.min(byExpiresIn, exp * 1000));
}

/**
 * Map a failed token request: unreachable, timed out or 5xx → 503 `IdpUnavailableError` (retryable);
 * an OAuth error (`invalid_client`, `invalid_scope`, …) → `OAuthResponseError` with code
 * `ERR_TOKEN_REQUEST_FAILED` and the IdP's `error` and `error_description`; anything else →
 * `ERR_TOKEN_REQUEST_FAILED`. Each names the token endpoint and its answer, never the response body:
 * it may hold a token.
 */
export function tokenRequestError(err: unknown, call: TokenCall): Promise<PortcullisError> {
  return idpError(err, {
    step: 'token request',
    endpoint: 'token',
    url: call.url,
    client: call.method === undefined ? undefined : { id: call.clientID, method: call.method },
    grant: call.grant,
    code: 'ERR_TOKEN_REQUEST_FAILED',
    status: 502,
    oauthCode: 'ERR_TOKEN_REQUEST_FAILED',
  });
}
