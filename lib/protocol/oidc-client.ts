/**
 * The relying party's protocol steps, free of Express: build the authorization URL, exchange a code,
 * refresh, read userinfo, build the end-session URL. Each network step is oauth4webapi's
 * request/process pair; this file adds the checks oauth4webapi leaves to its caller (ID token
 * signature and `at_hash`) and maps failures to portcullis errors.
 */
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../errors.js';
import type { ClientAuthConfig } from './client-auth.js';
import { createClientAuth } from './client-auth.js';
import { createDiscovery, type Discovery, type IssuerMetadata } from './discovery.js';
import { checkBound, withDpop, withNonceRetry } from './dpop/client-request.js';
import { DpopKeyRing } from './dpop/session-keys.js';
import type { ClientProfile } from './fapi2.js';
import { type HttpSettings, requestOptions } from './http.js';
import {
  checkAtHash,
  createIdTokenKeySet,
  idTokenAlgorithms,
  type KeySet,
  verifyIdTokenSignature,
} from './id-token.js';
import { type IdpCall, type IdpEndpoint, idpError } from './idp-error.js';
import type { AllowedTenants } from './issuer-template.js';
import { checkJwtResponseMode, validateJarmResponse } from './jarm.js';
import { type LogoutTokenClaims, validateLogoutToken } from './logout-token.js';
import { type AliasedEndpoint, clientTransport, endpointUrl, mtlsClient } from './mtls/client-transport.js';
import type { Emit } from './observability/emitter.js';
import type { IdpEvent } from './observability/events.js';
import { tracedFetch } from './observability/spans.js';
import { tokenRequest } from './observability/token-events.js';
import {
  authResponseError,
  type IssuerOwner,
  mixUpError,
  refusedIdTokenIssuer,
  tokenEndpointError,
} from './oidc-errors.js';
import { type RequestObjectSettings, type RequestObjects, requestObjects } from './request-object.js';
import { resourceRequest } from './resource-request.js';
import { callbackTenantMetadata, responseTenantMetadata, tenantMetadata } from './tenant-metadata.js';

export interface OidcClientOptions {
  issuer: URL;
  client: ClientAuthConfig;
  http: HttpSettings;
  redirectUri: string;
  clockTolerance: number;
  idTokenSigningAlg: string | undefined;
  /** For a templated issuer (`{tenantid}`): the tenants whose users may sign in. */
  allowedTenants?: AllowedTenants | undefined;
  /** DPoP handles shared by several clients (one `auth()`'s providers); a ring of its own by default. */
  dpopKeys?: DpopKeyRing | undefined;
  /** JAR (RFC 9101): when to sign the authorization request, and with which key. Never, by default. */
  requestObject?: RequestObjectSettings | undefined;
  /** Told of discovery and token requests (`idp.…` events). */
  emit?: Emit<IdpEvent> | undefined;
  /** A security profile's checks (FAPI 2.0): of the IdP at login, of its answers at the callback. */
  profile?: ClientProfile | undefined;
}

export interface ValidatedTokens {
  response: oauth.TokenEndpointResponse;
  idToken: string;
  claims: Record<string, unknown>;
}

export interface ExpectedCallback {
  state: string;
  nonce: string;
  codeVerifier: string;
  maxAge?: number | undefined;
  /** The login's DPoP key (RFC 9449): the code is exchanged with a proof, the tokens come bound. */
  dpop?: oauth.DPoPHandle | undefined;
  /** With several providers: which other provider an issuer is, to call a mix-up one (RFC 9700 §4.4). */
  issuerOwner?: IssuerOwner | undefined;
}

export class OidcClient {
  readonly #options: OidcClientOptions;
  /** The HTTP settings of calls to the IdP: each is an HTTP client span when OpenTelemetry is there. */
  readonly #http: HttpSettings;
  readonly #discovery: Discovery;
  readonly #clientAuth: () => Promise<oauth.ClientAuth>;
  readonly #requestObjects: RequestObjects;
  /** The IdP's keys for JWT responses (JARM), kept by oauth4webapi between callbacks. */
  readonly #jarmKeys: oauth.JWKSCacheInput = {};
  #keys: { uri: string; set: KeySet } | undefined;

  constructor(options: OidcClientOptions) {
    this.#options = options;
    // With a TLS client certificate (RFC 8705), every call presents it.
    const { http } = clientTransport(options.http, options.client);
    this.#http = { ...http, fetch: tracedFetch(http.fetch) };
    this.#discovery = createDiscovery({ issuer: options.issuer, http: this.#http, emit: options.emit });
    this.#clientAuth = createClientAuth(options.client);
    this.#requestObjects = requestObjects(
      options.requestObject ?? { always: false, key: undefined, keyOption: 'clientAssertionSigningKey' },
    );
    this.dpopKeys = options.dpopKeys ?? new DpopKeyRing({ [oauth.clockSkew]: 0 });
  }

  /** The IdP's metadata (cached); a 503 PortcullisError while the IdP cannot be read. */
  metadata(): Promise<IssuerMetadata> {
    return this.#discovery.get();
  }

  /** The DPoP handles of this client's sessions (RFC 9449). */
  readonly dpopKeys: DpopKeyRing;

  #client(as: IssuerMetadata): oauth.Client {
    const client: oauth.Client = {
      client_id: this.#options.client.clientID,
      [oauth.clockTolerance]: this.#options.clockTolerance,
    };
    // The accepted algorithms are enforced again, asymmetric only, by the signature check.
    if (this.#options.idTokenSigningAlg !== undefined) {
      client.id_token_signed_response_alg = this.#options.idTokenSigningAlg;
    }
    void as;
    return mtlsClient(this.#options.client, client);
  }

  /** Where a call to `endpoint` goes: the IdP's mTLS alias when this client uses mTLS (RFC 8705 §5). */
  #url(as: IssuerMetadata, endpoint: AliasedEndpoint): string | undefined {
    return endpointUrl(as, endpoint, this.#options.client, this.#http.allowInsecureHttp);
  }

  /** The ID (and logout) token algorithms: the configured one or the IdP's, narrowed by the profile. */
  #idTokenAlgorithms(as: IssuerMetadata): string[] {
    const algs = idTokenAlgorithms(this.#options.idTokenSigningAlg, as.id_token_signing_alg_values_supported);
    return this.#options.profile?.idTokenAlgorithms(algs) ?? algs;
  }

  #keySet(as: IssuerMetadata): KeySet {
    if (as.jwks_uri === undefined) {
      throw new PortcullisError('ERR_DISCOVERY_FAILED', 'the IdP\'s metadata has no "jwks_uri"', {
        status: 503,
      });
    }
    if (this.#keys?.uri !== as.jwks_uri) {
      this.#keys = { uri: as.jwks_uri, set: createIdTokenKeySet(new URL(as.jwks_uri), this.#http) };
    }
    return this.#keys.set;
  }

  /** A call to one of the IdP's endpoints, as error messages describe it: with this client and its method. */
  #call(step: string, endpoint: IdpEndpoint, url: string | undefined): IdpCall {
    const { clientID, method } = this.#options.client;
    return { step, endpoint, url, client: { id: clientID, method }, code: 'ERR_OAUTH_RESPONSE', status: 502 };
  }

  /**
   * The authorization endpoint URL for these parameters (OpenID Connect Core §3.1.2.1). With
   * `pushed` (or when the IdP requires it) the parameters are first pushed to the IdP (RFC 9126) and
   * the URL carries only `client_id` and the `request_uri`, so nothing of the request shows in the browser.
   * With JAR (RFC 9101) the parameters travel as one signed request object, in the URL or the push.
   */
  async authorizationUrl(
    params: URLSearchParams,
    { pushed = false, dpop }: { pushed?: boolean; dpop?: oauth.DPoPHandle | undefined } = {},
  ): Promise<URL> {
    const as = await this.metadata();
    this.#options.profile?.checkIdp(as);
    if (as.authorization_endpoint === undefined) {
      throw new PortcullisError(
        'ERR_DISCOVERY_FAILED',
        'the IdP\'s metadata has no "authorization_endpoint"',
        {
          status: 503,
        },
      );
    }
    const all = new URLSearchParams(params);
    all.set('client_id', this.#options.client.clientID);
    all.set('redirect_uri', this.#options.redirectUri);
    all.set('response_type', 'code');
    checkJwtResponseMode(as, all.get('response_mode'));
    const sent = await this.#requestObjects(as, this.#client(as), all);
    const url = new URL(as.authorization_endpoint);
    if (pushed || as.require_pushed_authorization_requests === true) {
      const requestUri = await this.#push(as, sent, dpop);
      url.searchParams.set('client_id', this.#options.client.clientID);
      url.searchParams.set('request_uri', requestUri);
      return url;
    }
    for (const [key, value] of sent) url.searchParams.append(key, value);
    return url;
  }

  /** RFC 9126: push the authorization parameters; returns the `request_uri`. */
  async #push(
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
          this.#client(as),
          await this.#clientAuth(),
          params,
          withDpop(requestOptions(this.#http, this.#url(as, 'pushed_authorization_request_endpoint')), dpop),
        );
        return (await oauth.processPushedAuthorizationResponse(as, this.#client(as), answer)).request_uri;
      });
    } catch (err) {
      throw await idpError(
        err,
        this.#call(
          'pushed authorization request',
          'par',
          this.#url(as, 'pushed_authorization_request_endpoint'),
        ),
      );
    }
  }

  /** A JWT response (JARM), checked before anything reads it (jarm.ts); returns the parameters it holds. */
  async jwtResponse(callback: URLSearchParams): Promise<URLSearchParams> {
    const as = await this.metadata();
    const checked = this.#options.profile?.authResponseMetadata(as) ?? as;
    return validateJarmResponse(checked, this.#client(as), callback, this.#http, this.#jarmKeys);
  }

  /**
   * Validate the authorization response (state, RFC 9207 `iss`, error) and exchange the code. An `iss`
   * (parameter or ID token) that is another provider's is a mix-up: `ERR_ISSUER_MISMATCH`.
   */
  async exchangeCode(callback: URLSearchParams, expected: ExpectedCallback): Promise<ValidatedTokens> {
    const as = await this.metadata();
    const client = this.#client(as);
    const { allowedTenants } = this.#options;
    const named = callbackTenantMetadata(as, allowedTenants, callback.get('iss'));
    let params: URLSearchParams;
    try {
      const checked = this.#options.profile?.authResponseMetadata(named) ?? named;
      params = oauth.validateAuthResponse(checked, client, callback, expected.state);
    } catch (err) {
      throw mixUpError(err, callback.get('iss'), expected.issuerOwner, 'parameter') ?? authResponseError(err);
    }
    const dpop = expected.dpop;
    let checked = as;
    const response = await tokenRequest(
      this.#options.emit,
      'authorization_code',
      this.#url(as, 'token_endpoint'),
      () =>
        withNonceRetry(dpop, async () => {
          const answer = await oauth.authorizationCodeGrantRequest(
            as,
            client,
            await this.#clientAuth(),
            params,
            this.#options.redirectUri,
            expected.codeVerifier,
            withDpop(requestOptions(this.#http, this.#url(as, 'token_endpoint')), dpop),
          );
          checked = await responseTenantMetadata(as, allowedTenants, answer);
          return oauth.processAuthorizationCodeResponse(checked, client, answer, {
            expectedNonce: expected.nonce,
            maxAge: expected.maxAge ?? oauth.skipAuthTimeCheck,
            requireIdToken: true,
          });
        }),
      async (err) =>
        mixUpError(err, refusedIdTokenIssuer(err), expected.issuerOwner, 'ID token') ??
        (await tokenEndpointError(
          err,
          this.#call('code exchange', 'token', this.#url(as, 'token_endpoint')),
          'authorization_code',
        )),
    );
    if (named !== as && checked.issuer !== named.issuer) {
      throw new PortcullisError(
        'ERR_ISSUER_MISMATCH',
        'the ID token is from another tenant than the callback\'s "iss" parameter names',
        { status: 400 },
      );
    }
    checkBound(response, dpop);
    return this.#validateIdToken(checked, response);
  }

  async #validateIdToken(
    as: IssuerMetadata,
    response: oauth.TokenEndpointResponse,
  ): Promise<ValidatedTokens> {
    const idToken = response.id_token;
    if (idToken === undefined) {
      throw new PortcullisError('ERR_ID_TOKEN_INVALID', 'the token response has no ID token', {
        status: 400,
      });
    }
    const payload = await verifyIdTokenSignature(idToken, this.#keySet(as), {
      algorithms: this.#idTokenAlgorithms(as),
      issuer: as.issuer,
      audience: this.#options.client.clientID,
      clockTolerance: this.#options.clockTolerance,
    });
    this.#options.profile?.checkIdTokenClaims(payload, this.#options.clockTolerance);
    checkAtHash(idToken, payload, response.access_token);
    return { response, idToken, claims: { ...payload } };
  }

  /** The refresh-token grant (RFC 6749 §6); a new ID token, when sent, is validated like the first. */
  async refresh(
    refreshToken: string,
    previousClaims: Record<string, unknown>,
    dpop?: oauth.DPoPHandle,
  ): Promise<{ response: oauth.TokenEndpointResponse; idToken?: string; claims?: Record<string, unknown> }> {
    const as = await this.metadata();
    const client = this.#client(as);
    let checked = as;
    const response = await tokenRequest(
      this.#options.emit,
      'refresh_token',
      this.#url(as, 'token_endpoint'),
      () =>
        withNonceRetry(dpop, async () => {
          const answer = await oauth.refreshTokenGrantRequest(
            as,
            client,
            await this.#clientAuth(),
            refreshToken,
            withDpop(requestOptions(this.#http, this.#url(as, 'token_endpoint')), dpop),
          );
          checked = await responseTenantMetadata(as, this.#options.allowedTenants, answer);
          return oauth.processRefreshTokenResponse(checked, client, answer);
        }),
      (err) =>
        tokenEndpointError(
          err,
          this.#call('refresh', 'token', this.#url(as, 'token_endpoint')),
          'refresh_token',
        ),
    );
    checkBound(response, dpop);
    if (response.id_token === undefined) return { response };
    const validated = await this.#validateIdToken(checked, response);
    // OpenID Connect Core §12.2: a refreshed ID token must be about the same user.
    if (validated.claims['sub'] !== previousClaims['sub']) {
      throw new PortcullisError('ERR_ID_TOKEN_INVALID', 'refresh: the new ID token is about another "sub"', {
        status: 400,
      });
    }
    return { response, idToken: validated.idToken, claims: validated.claims };
  }

  /** The userinfo endpoint; a `sub` that differs from the ID token's is refused (Core §5.3.2). */
  async userinfo(
    accessToken: string,
    expectedSub: string,
    dpop?: oauth.DPoPHandle,
  ): Promise<oauth.UserInfoResponse> {
    const as = await this.metadata();
    const client = this.#client(as);
    try {
      return await withNonceRetry(dpop, async () => {
        const answer = await oauth.userInfoRequest(
          as,
          client,
          accessToken,
          withDpop(requestOptions(this.#http, this.#url(as, 'userinfo_endpoint')), dpop),
        );
        return oauth.processUserInfoResponse(as, client, expectedSub, answer);
      });
    } catch (err) {
      throw await idpError(err, {
        ...this.#call('userinfo', 'userinfo', this.#url(as, 'userinfo_endpoint')),
        code: 'ERR_USERINFO_FAILED',
      });
    }
  }

  /**
   * Revoke a token at the IdP's `revocation_endpoint` (RFC 7009 §2.1), authenticated as this client,
   * with its `token_type_hint`. The IdP answers 200 for a token it no longer knows, too.
   */
  async revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    const as = await this.metadata();
    try {
      const answer = await oauth.revocationRequest(as, this.#client(as), await this.#clientAuth(), token, {
        ...requestOptions(this.#http, this.#url(as, 'revocation_endpoint')),
        additionalParameters: { token_type_hint: hint },
      });
      await oauth.processRevocationResponse(answer);
    } catch (err) {
      throw await idpError(
        err,
        this.#call('token revocation', 'revocation', this.#url(as, 'revocation_endpoint')),
      );
    }
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
    return resourceRequest(this.#http, { accessToken, method, url, headers, body, dpop });
  }

  /** Validate a back-channel logout token (Back-Channel Logout 1.0 §2.6). */
  async logoutToken(token: string): Promise<LogoutTokenClaims> {
    const as = await this.metadata();
    return validateLogoutToken(token, this.#keySet(as), {
      issuer: tenantMetadata(as, this.#options.allowedTenants, token).issuer,
      audience: this.#options.client.clientID,
      algorithms: this.#idTokenAlgorithms(as),
      clockTolerance: this.#options.clockTolerance,
    });
  }

  /**
   * RP-initiated logout URL (RP-Initiated Logout 1.0 §2), or `undefined` when the IdP has no
   * `end_session_endpoint`. The IdP hands `state` back on its redirect to `postLogoutRedirectUri`.
   */
  async endSessionUrl(
    idToken: string | undefined,
    postLogoutRedirectUri: string,
    state: string,
  ): Promise<URL | undefined> {
    const as = await this.metadata();
    if (as.end_session_endpoint === undefined) return undefined;
    const url = new URL(as.end_session_endpoint);
    url.searchParams.set('client_id', this.#options.client.clientID);
    url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
    url.searchParams.set('state', state);
    if (idToken !== undefined) url.searchParams.set('id_token_hint', idToken);
    return url;
  }
}
