/**
 * `auth()` options: merged with the environment, validated once, frozen. Bad configuration throws
 * one TypeError naming the option, at start-up, never later on a request.
 */
import type { ClientAuthOptions } from '../protocol/client-auth.js';
import type { FetchLike, HttpSettings } from '../protocol/http.js';
import type { AllowedTenants } from '../protocol/issuer-template.js';
import type { Logger } from '../protocol/logger.js';
import type { SigninEvent } from '../protocol/observability/events.js';
import type { RefreshLock } from '../signin/refresh.js';
import type { TokenSet } from '../signin/token-set.js';
import type { SecurityProfile } from './fapi2.js';
import type { ProviderConfig, ProviderDefaults, ProviderOptions, ResolveProvider } from './provider.js';

/** How the IdP returns the authorization response; the `.jwt` modes are JARM's (signed by the IdP). */
export type ResponseMode = 'query' | 'form_post' | 'jwt' | 'query.jwt' | 'form_post.jwt';

/** Authorization request parameters (OpenID Connect Core §3.1.2.1); `scope` must include `openid`. */
export interface AuthorizationParams {
  /** @default 'openid profile email' */
  scope?: string | undefined;
  /**
   * [RESPONSE_MODE] `query` (default) or `form_post`; or a JWT-secured response (JARM): `jwt` (the
   * IdP's default for the code flow, `query.jwt`), `query.jwt` or `form_post.jwt`. A JWT response's
   * signature (the IdP's JWKS), `iss`, `aud` and `exp` are checked before any parameter in it is used,
   * and a login that asked for one refuses plain parameters.
   */
  response_mode?: ResponseMode | undefined;
  /** Auth0-style API audience. */
  audience?: string | undefined;
  /** RFC 8707 resource indicator(s). */
  resource?: string | string[] | undefined;
  prompt?: string | undefined;
  max_age?: number | undefined;
  acr_values?: string | undefined;
  login_hint?: string | undefined;
  ui_locales?: string | undefined;
  [param: string]: string | string[] | number | undefined;
}

/** Where `auth()` mounts its routes (relative to where it is mounted). */
export interface Routes {
  /** @default '/login' */
  login?: string | undefined;
  /** @default '/callback' */
  callback?: string | undefined;
  /** @default '/logout' */
  logout?: string | undefined;
  /**
   * Where the IdP sends the browser back after RP-initiated logout (`idpLogout`), with the `state`
   * that the logout sent; register `baseURL + routes.postLogoutCallback` as the client's
   * `post_logout_redirect_uri`. It accepts only a state it issued to this browser, once, then
   * redirects to the logout's `returnTo` (or `postLogoutRedirect`).
   * @default '/logout/callback'
   */
  postLogoutCallback?: string | undefined;
  /** Where the IdP POSTs logout tokens, with `backchannelLogout`. @default '/backchannel-logout' */
  backchannelLogout?: string | undefined;
}

export interface AfterCallbackContext {
  /** The ID token's validated claims. */
  claims: Readonly<Record<string, unknown>>;
  /** Where the user will be sent after login. */
  returnTo: string;
}

export interface AuthOptions extends ClientAuthOptions {
  /** [ISSUER_BASE_URL] The IdP; discovery reads `/.well-known/openid-configuration` (RFC 8414 fallback). */
  issuerBaseURL?: string | undefined;
  /**
   * Several IdPs, by id (letters, digits, `-`, `_`), each with its own `issuerBaseURL`, client and
   * client authentication, and if it wants its own `authorizationParams` (merged over these), PAR,
   * DPoP, `idpLogout`, `mergeUserInfo`; routes and the session are shared. `GET /login?provider=<id>`
   * and `res.oidc.login({ provider })` pick one; `req.oidc.provider` names the user's. Each provider's
   * redirect URI is `baseURL + routes.callback + '/' + id` (and its back-channel logout URI
   * `baseURL + routes.backchannelLogout + '/' + id`): register that one at its IdP. A response at
   * another provider's path than its login's is a mix-up, refused before the code is sent anywhere.
   * Instead of the top-level `issuerBaseURL`, `clientID` and client credentials.
   * @example auth({ baseURL, providers: { corp: { issuerBaseURL, clientID, clientSecret }, partner: { ... } } })
   */
  providers?: Readonly<Record<string, ProviderOptions>> | undefined;
  /** With `providers`: the one a login without `?provider=` uses. @default the only provider, when there is one */
  defaultProvider?: string | undefined;
  /**
   * Dynamic tenants: `(req, { providerId }) => provider | undefined`, a provider with an `id` (by host,
   * path or a tenant lookup), or `undefined` for a 404 `ERR_UNKNOWN_PROVIDER`. Called at login, at the
   * callback and on each request of a signed-in session (a session is valid only where the resolver
   * returns its provider): keep it fast. Only issuers it returns are ever contacted; their metadata
   * and keys are kept in a cache of `providerCacheMaxEntries`. Instead of `providers`.
   */
  resolveProvider?: ResolveProvider | undefined;
  /**
   * With `resolveProvider`: how many providers are kept, each with its issuer's metadata and keys, the
   * least recently used going first. A flood of distinct tenants never holds more. @default 100
   */
  providerCacheMaxEntries?: number | undefined;
  /**
   * [ALLOWED_TENANTS] For a templated issuer (Entra ID's `/organizations/v2.0` and `/common/v2.0`,
   * whose metadata `issuer` holds `{tenantid}`): the tenants (`tid`) whose users may sign in, or a
   * predicate. Without it no tenant's user can: one set of keys signs for every Entra tenant.
   */
  allowedTenants?: AllowedTenants | undefined;
  /** [BASE_URL] This app's public URL; `redirect_uri` is `baseURL + routes.callback`. */
  baseURL?: string | undefined;
  authorizationParams?: AuthorizationParams | undefined;
  routes?: Routes | undefined;
  /** [IDP_LOGOUT] Also log out at the IdP (RP-initiated logout) when it has an `end_session_endpoint`. @default false */
  idpLogout?: boolean | undefined;
  /**
   * [REVOKE_ON_LOGOUT] At logout, revoke the session's refresh token and access token at the IdP's
   * `revocation_endpoint` (RFC 7009), authenticating as the client, so that a copy of them stops working
   * too. A revocation that fails or takes longer than `httpTimeout` is logged as a warning and never
   * holds up or fails the logout; an IdP without a `revocation_endpoint` is warned about once. Not done
   * on back-channel logout: the IdP ended that session itself. @default false
   */
  revokeOnLogout?: boolean | undefined;
  /**
   * [ATTEMPT_SILENT_LOGIN] Sign a browser in without a click when it already has a session at the IdP:
   * its first HTML page view (a GET navigation, not an API call, XHR, fetch or prefetch) without a login
   * goes to the IdP once with `prompt=none` (OpenID Connect Core §3.1.2.1) and comes back to the same
   * page, signed in, or signed out with no error when the IdP answers `login_required`,
   * `consent_required`, `interaction_required` or `account_selection_required`. A cookie
   * (`portcullis.skipSilentLogin`) marks it tried, so a browser is never sent twice in a browser session,
   * nor after logout. For one route only: `attemptSilentLogin()`. @default false
   */
  attemptSilentLogin?: boolean | undefined;
  /** [POST_LOGOUT_REDIRECT] Where logout sends the user (a same-origin path). @default '/' */
  postLogoutRedirect?: string | undefined;
  /**
   * [AUTH_PROFILE] `'fapi2'`: follow the FAPI 2.0 Security Profile for every provider. PAR and DPoP
   * (unless a TLS client certificate binds the tokens) are on, the authorization response must carry
   * `iss`, ID tokens must be signed PS256, ES256 or EdDSA, and an IdP that lacks what the profile needs
   * is an `ERR_IDP_INCOMPATIBLE` at login. An option that conflicts (a `clientSecret`, `dpop: false`,
   * `allowInsecureHttp`, an http `baseURL`, a `clockTolerance` outside 10 to 60 s, ...) is a start-up
   * TypeError naming the rule and its section. See docs/fapi2.md.
   * @example auth({ profile: 'fapi2', issuerBaseURL, baseURL, clientID, clientAssertionSigningKey })
   * @see https://openid.net/specs/fapi-security-profile-2_0-final.html
   */
  profile?: SecurityProfile | undefined;
  /**
   * [PUSHED_AUTHORIZATION_REQUESTS] Push the authorization parameters to the IdP first (RFC 9126, PAR):
   * the browser's URL then carries only a `request_uri`. Automatic when the IdP requires PAR. @default false
   */
  pushedAuthorizationRequests?: boolean | undefined;
  /**
   * [REQUEST_OBJECT] Send each authorization request as a request object (JAR, RFC 9101): one JWT
   * signed with `clientAssertionSigningKey` (and `clientAssertionSigningAlg`), whichever way the client
   * authenticates, so that the IdP knows the parameters come from this app unaltered. Inside the PAR
   * body when `pushedAuthorizationRequests` is on. Automatic, given the key, when the IdP's metadata
   * says `require_signed_request_object`. Without a key: a start-up TypeError. @default false
   * @see https://www.rfc-editor.org/rfc/rfc9101
   */
  requestObject?: boolean | undefined;
  /**
   * [DPOP] Sender-constrain the user's tokens with DPoP (RFC 9449): each login gets its own key pair,
   * kept server-side with the session; the code exchange, refresh and userinfo send proofs signed
   * with it, and the IdP's `DPoP-Nonce` is answered. A stolen access or refresh token is then useless
   * without the key. @default false
   */
  dpop?: boolean | undefined;
  /**
   * [BACKCHANNEL_LOGOUT] Mount `POST routes.backchannelLogout` (OpenID Connect Back-Channel Logout 1.0):
   * the IdP's logout tokens end the matching sessions in the session store, whichever process made them.
   * Register `baseURL + routes.backchannelLogout` as the client's `backchannel_logout_uri`. @default false
   */
  backchannelLogout?: boolean | undefined;
  /** [AUTH_REQUIRED] Require login on every route after `auth()`. @default false */
  authRequired?: boolean | undefined;
  /**
   * [NO_STORE] Send `Cache-Control: no-store` on the responses of routes behind `requiresAuth()` (and
   * of every route with `authRequired`), so that the back button after logout does not show the
   * user's pages from the browser's cache. A route may still set its own `Cache-Control`. auth()'s
   * own routes (login, callback, logout, …) always send `no-store`, whatever this says.
   * > [!WARNING] `false` lets browsers and shared caches keep signed-in pages, which then show after
   * > logout or to the next user of a shared computer.
   * @default true
   */
  noStore?: boolean | undefined;
  /**
   * [MERGE_USERINFO] At login, read the userinfo endpoint and merge its claims into `req.oidc.user`
   * (the ID token's own claims win; userinfo about another `sub` fails the login), for IdPs whose ID
   * tokens carry no profile claims (`name`, `email`). One more call to the IdP per login. @default false
   */
  mergeUserInfo?: boolean | undefined;
  /** [AUTO_REFRESH] Refresh an expired access token before the route runs. @default false */
  autoRefresh?: boolean | undefined;
  /** [SESSION_ABSOLUTE_DURATION] Seconds after login when the user must log in again, whatever their activity. @default 604800 (7 days) */
  absoluteDuration?: number | undefined;
  /** [SESSION_TOUCH_INTERVAL] Seconds between two touches of one session in the store by this process: express-session touches the store on every request whose session did not change, and `auth()` wraps the store in `throttleTouch()` so that it does so at most this often (an idle session may then end up to this many seconds early). 0 leaves express-session's touch on every request. @default 60 */
  sessionTouchInterval?: number | undefined;
  /** [CLOCK_TOLERANCE] Seconds of clock skew tolerated on ID token timestamps. @default 60 */
  clockTolerance?: number | undefined;
  /** [HTTP_TIMEOUT] Milliseconds before a call to the IdP is abandoned. @default 5000 */
  httpTimeout?: number | undefined;
  /**
   * A `fetch` for calls to the IdP (proxies, custom CAs, tracing). Not with `tlsClientCertificate`: the
   * calls that present it go through portcullis's own https client. @default globalThis.fetch
   */
  fetch?: FetchLike | undefined;
  /** [ID_TOKEN_SIGNING_ALG] The one algorithm the IdP signs ID tokens with; by default any asymmetric one it advertises. */
  idTokenSigningAlg?: string | undefined;
  /**
   * [ALLOW_INSECURE_HTTP] Allow plain-http IdP URLs on non-loopback hosts.
   * > [!WARNING] Tokens and codes then cross the network unencrypted. For test networks only.
   * @default false
   */
  allowInsecureHttp?: boolean | undefined;
  /**
   * A lock shared by a fleet of processes, so that one of them refreshes a session's tokens while the
   * others wait for its result (with refresh-token rotation, two refreshes would sign the user out).
   * `redisTokenCache(redisClient)` is one. Not needed for a single process.
   */
  refreshLock?: RefreshLock | undefined;
  /** Prefix of the short-lived cookies (`<name>.<id>`, one per pending login) that tie it to this browser. @default 'portcullis.tx' */
  transactionCookieName?: string | undefined;
  /**
   * Runs after the ID token is validated and before the session is written. Throw to refuse the login
   * (the user gets a 403 `ERR_LOGIN_REFUSED` unless your error is a PortcullisError); return a token set
   * to store instead (for example with fewer claims), or nothing to keep it.
   */
  afterCallback?: (
    req: import('express').Request,
    res: import('express').Response,
    tokenSet: TokenSet,
    context: AfterCallbackContext,
    // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing (or an empty promise) keeps the token set
  ) => TokenSet | undefined | void | Promise<TokenSet | undefined | void>;
  /**
   * Told of every `signin.…` event (login started, completed or failed with its reason, refresh,
   * logout, back-channel logout) and the `idp.…` events of the calls auth() makes to the IdP
   * (discovery, token requests). The same events go to the `portcullis:signin` diagnostics channel
   * and to OpenTelemetry. Payloads hold no token, secret, code, verifier, state or nonce; a hook that
   * throws is ignored. See docs/observability.md.
   * @example auth({ ..., onEvent: (e) => { if (e.type === 'signin.login.failed') console.warn(e.reason, e.code) } })
   */
  onEvent?: ((event: SigninEvent) => void) | undefined;
  /**
   * A pino-compatible logger (`pino()`, or `console`): start-up warnings of weakened checks.
   * @default warnings to `console.warn`, nothing else
   */
  logger?: Logger | undefined;
}

/** auth()'s routes, with their defaults. */
export type RoutesConfig = { readonly [K in keyof Routes]-?: string };

/**
 * The IdPs of an `auth()`: a fixed set (one `default` for a classic config, or `providers`), or the
 * ones `resolveProvider` returns, cached up to `maxEntries`.
 */
export type ProvidersConfig =
  | {
      readonly kind: 'static';
      /** False for a classic single-IdP config: its provider keeps `routes.callback` and its sessions' shape. */
      readonly multi: boolean;
      readonly byId: ReadonlyMap<string, ProviderConfig>;
      readonly defaultId: string | undefined;
    }
  | {
      readonly kind: 'resolved';
      readonly multi: true;
      readonly resolve: ResolveProvider;
      readonly defaults: ProviderDefaults;
      readonly maxEntries: number;
    };

export interface SigninConfig {
  readonly baseURL: URL;
  readonly routes: RoutesConfig;
  readonly postLogoutRedirect: string;
  readonly authRequired: boolean;
  readonly noStore: boolean;
  readonly backchannelLogout: boolean;
  readonly autoRefresh: boolean;
  readonly absoluteDuration: number;
  readonly sessionTouchInterval: number;
  readonly clockTolerance: number;
  readonly http: HttpSettings;
  readonly transactionCookieName: string;
  readonly refreshLock: RefreshLock | undefined;
  readonly afterCallback: AuthOptions['afterCallback'];
  readonly onEvent: ((event: SigninEvent) => void) | undefined;
  readonly logger: Logger;
  readonly providers: ProvidersConfig;
}

export { signinConfig } from './signin-config.js';
export { checkAuthorizationParams } from './signin-params.js';
