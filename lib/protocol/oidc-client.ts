/**
 * The relying party's protocol steps, free of Express: build the authorization URL, exchange a code,
 * refresh, read userinfo, revoke, build the end-session URL. Each network step is oauth4webapi's
 * request/process pair, in its own module under oidc-client/; those modules add the checks
 * oauth4webapi leaves to its caller (ID token signature and `at_hash`) and map failures to portcullis
 * errors. This class holds one provider's state (its IdP connection, keys, DPoP handles) and names the steps.
 */
import * as oauth from 'oauth4webapi';
import type { IssuerMetadata } from './discovery.js';
import { DpopKeyRing } from './dpop/session-keys.js';
import { validateJarmResponse } from './jarm.js';
import type { LogoutTokenClaims } from './logout-token.js';
import { type AuthorizationUrlOptions, authorizationUrl } from './oidc-client/authorization-url.js';
import { type ExpectedCallback, exchangeCode } from './oidc-client/code-exchange.js';
import { IdpConnection, type OidcClientOptions } from './oidc-client/idp-connection.js';
import { endSessionUrl, logoutToken } from './oidc-client/logout.js';
import type { ValidatedTokens } from './oidc-client/token-grant.js';
import { type RefreshedTokens, refreshTokens } from './oidc-client/token-refresh.js';
import { revokeToken } from './oidc-client/token-revocation.js';
import { fetchUserinfo } from './oidc-client/userinfo.js';
import { type RequestObjects, requestObjects } from './request-object.js';
import { resourceRequest } from './resource-request.js';

export type { ExpectedCallback, OidcClientOptions, RefreshedTokens, ValidatedTokens };

export class OidcClient {
  readonly #idp: IdpConnection;
  readonly #requestObjects: RequestObjects;
  /** The IdP's keys for JWT responses (JARM), kept by oauth4webapi between callbacks. */
  readonly #jarmKeys: oauth.JWKSCacheInput = {};
  /** The DPoP handles of this client's sessions (RFC 9449). */
  readonly dpopKeys: DpopKeyRing;

  constructor(options: OidcClientOptions) {
    this.#idp = new IdpConnection(options);
    this.#requestObjects = requestObjects(
      options.requestObject ?? { always: false, key: undefined, keyOption: 'clientAssertionSigningKey' },
    );
    this.dpopKeys = options.dpopKeys ?? new DpopKeyRing({ [oauth.clockSkew]: 0 });
  }

  /** The IdP's metadata (cached); a 503 PortcullisError while the IdP cannot be read. */
  metadata(): Promise<IssuerMetadata> {
    return this.#idp.metadata();
  }

  /** The authorization endpoint URL for these parameters (authorization-url.ts: JAR, PAR). */
  authorizationUrl(params: URLSearchParams, options: AuthorizationUrlOptions = {}): Promise<URL> {
    return authorizationUrl(this.#idp, this.#requestObjects, params, options);
  }

  /** A JWT response (JARM), checked before anything reads it (jarm.ts); returns the parameters it holds. */
  async jwtResponse(callback: URLSearchParams): Promise<URLSearchParams> {
    const as = await this.metadata();
    const checked = this.#idp.options.profile?.authResponseMetadata(as) ?? as;
    return validateJarmResponse(checked, this.#idp.client(), callback, this.#idp.http, this.#jarmKeys);
  }

  /** Validate the authorization response and exchange its code (code-exchange.ts). */
  exchangeCode(callback: URLSearchParams, expected: ExpectedCallback): Promise<ValidatedTokens> {
    return exchangeCode(this.#idp, callback, expected);
  }

  /** The refresh-token grant; a new ID token must be about the same `sub` (token-refresh.ts). */
  refresh(
    refreshToken: string,
    previousClaims: Record<string, unknown>,
    dpop?: oauth.DPoPHandle,
  ): Promise<RefreshedTokens> {
    return refreshTokens(this.#idp, refreshToken, previousClaims, dpop);
  }

  /** The userinfo endpoint; a `sub` that differs from the ID token's is refused (userinfo.ts). */
  userinfo(
    accessToken: string,
    expectedSub: string,
    dpop?: oauth.DPoPHandle,
  ): Promise<oauth.UserInfoResponse> {
    return fetchUserinfo(this.#idp, accessToken, expectedSub, dpop);
  }

  /** Revoke a token at the IdP (RFC 7009, token-revocation.ts). */
  revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    return revokeToken(this.#idp, token, hint);
  }

  /**
   * A request to a resource server with the user's access token (resource-request.ts): Bearer, or DPoP
   * with a fresh proof and one retry on `use_dpop_nonce`. Redirects are not followed.
   */
  resourceRequest(
    accessToken: string,
    method: string,
    url: URL,
    headers: Headers,
    body: oauth.ProtectedResourceRequestBody,
    dpop: oauth.DPoPHandle | undefined,
  ): Promise<Response> {
    return resourceRequest(this.#idp.http, { accessToken, method, url, headers, body, dpop });
  }

  /** Validate a back-channel logout token (logout.ts). */
  logoutToken(token: string): Promise<LogoutTokenClaims> {
    return logoutToken(this.#idp, token);
  }

  /** The RP-initiated logout URL, or `undefined` when the IdP has none (logout.ts). */
  endSessionUrl(
    idToken: string | undefined,
    postLogoutRedirectUri: string,
    state: string,
  ): Promise<URL | undefined> {
    return endSessionUrl(this.#idp, idToken, postLogoutRedirectUri, state);
  }
}
