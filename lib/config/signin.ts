/**
 * `auth()` options: merged with the environment, validated once, frozen. Bad configuration throws
 * one TypeError naming the option, at start-up, never later on a request.
 */
import {
  type ClientAuthConfig,
  type ClientAuthOptions,
  validateClientAuth,
} from '../protocol/client-auth.js';
import { DEFAULT_HTTP_TIMEOUT, type FetchLike, type HttpSettings } from '../protocol/http.js';
import { type Logger, validateLogger } from '../protocol/logger.js';
import type { RefreshLock } from '../signin/refresh.js';
import type { TokenSet } from '../signin/token-set.js';
import { clientAuthFromEnv } from './client-auth-options.js';
import { checkKnownOptions, envValue, readEnv, warnWeakenedChecks } from './option-spec.js';
import { SIGNIN_OPTIONS } from './signin-options.js';
import {
  optionalBoolean,
  optionalFunction,
  optionalNumber,
  optionalString,
  requireCallableUrl,
  requireString,
} from './validate.js';

/** Authorization request parameters (OpenID Connect Core §3.1.2.1); `scope` must include `openid`. */
export interface AuthorizationParams {
  /** @default 'openid profile email' */
  scope?: string | undefined;
  /** [RESPONSE_MODE] `query` (default) or `form_post`. */
  response_mode?: 'query' | 'form_post' | undefined;
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
  /** [BASE_URL] This app's public URL; `redirect_uri` is `baseURL + routes.callback`. */
  baseURL?: string | undefined;
  authorizationParams?: AuthorizationParams | undefined;
  routes?: Routes | undefined;
  /** [IDP_LOGOUT] Also log out at the IdP (RP-initiated logout) when it has an `end_session_endpoint`. @default false */
  idpLogout?: boolean | undefined;
  /** [POST_LOGOUT_REDIRECT] Where logout sends the user (a same-origin path). @default '/' */
  postLogoutRedirect?: string | undefined;
  /**
   * [PUSHED_AUTHORIZATION_REQUESTS] Push the authorization parameters to the IdP first (RFC 9126, PAR):
   * the browser's URL then carries only a `request_uri`. Automatic when the IdP requires PAR. @default false
   */
  pushedAuthorizationRequests?: boolean | undefined;
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
  /** [CLOCK_TOLERANCE] Seconds of clock skew tolerated on ID token timestamps. @default 60 */
  clockTolerance?: number | undefined;
  /** [HTTP_TIMEOUT] Milliseconds before a call to the IdP is abandoned. @default 5000 */
  httpTimeout?: number | undefined;
  /** A `fetch` for calls to the IdP (proxies, custom CAs, tracing). @default globalThis.fetch */
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
   * A pino-compatible logger (`pino()`, or `console`): start-up warnings of weakened checks.
   * @default warnings to `console.warn`, nothing else
   */
  logger?: Logger | undefined;
}

export interface SigninConfig {
  readonly issuer: URL;
  readonly baseURL: URL;
  readonly redirectUri: string;
  readonly client: ClientAuthConfig;
  readonly authorizationParams: Readonly<AuthorizationParams> & { scope: string };
  readonly routes: Readonly<Required<Routes>>;
  readonly idpLogout: boolean;
  readonly postLogoutRedirect: string;
  readonly authRequired: boolean;
  readonly noStore: boolean;
  readonly pushedAuthorizationRequests: boolean;
  readonly dpop: boolean;
  readonly backchannelLogout: boolean;
  readonly autoRefresh: boolean;
  readonly mergeUserInfo: boolean;
  readonly absoluteDuration: number;
  readonly clockTolerance: number;
  readonly http: HttpSettings;
  readonly idTokenSigningAlg: string | undefined;
  readonly transactionCookieName: string;
  readonly refreshLock: RefreshLock | undefined;
  readonly afterCallback: AuthOptions['afterCallback'];
  readonly logger: Logger;
}

/** Parameters the library owns: letting callers set them would break PKCE, state or nonce. */
const RESERVED = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request',
  'request_uri',
]);

/** Check authorization parameters (from options, or per call to `res.oidc.login()`). */
export function checkAuthorizationParams(params: unknown, option: string): AuthorizationParams {
  if (params === undefined) return {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new TypeError(`"${option}" must be an object`);
  }
  const out: AuthorizationParams = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (RESERVED.has(key))
      throw new TypeError(`"${option}.${key}" is set by portcullis and cannot be overridden`);
    if (key === 'response_type' && value !== 'code')
      throw new TypeError(`"${option}.response_type" must be "code"`);
    if (key === 'response_mode' && value !== 'query' && value !== 'form_post') {
      throw new TypeError(`"${option}.response_mode" must be "query" or "form_post"`);
    }
    const ok =
      typeof value === 'string' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!ok) throw new TypeError(`"${option}.${key}" must be a string, a number or a list of strings`);
    out[key] = value as string | string[] | number;
  }
  if (out.scope !== undefined && !String(out.scope).split(' ').includes('openid')) {
    throw new TypeError(`"${option}.scope" must include "openid"`);
  }
  return out;
}

function checkPath(value: unknown, option: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'string' ||
    !value.startsWith('/') ||
    value.startsWith('//') ||
    /[\s\\?#]/.test(value)
  ) {
    throw new TypeError(`"${option}" must be a path starting with "/"`);
  }
  return value;
}

/**
 * Settings a known IdP refuses or ignores, said at start-up rather than found at the first login:
 * Google answers `invalid_scope` to `offline_access`, and gives refresh tokens only with
 * `access_type=offline`.
 */
function warnKnownIdpQuirks(issuer: URL, params: AuthorizationParams, logger: Logger): void {
  if (issuer.hostname !== 'accounts.google.com') return;
  if (String(params.scope).split(' ').includes('offline_access')) {
    logger.warn(
      { option: 'authorizationParams.scope', idp: 'google' },
      "auth(): Google refuses the scope offline_access (invalid_scope): drop it, and ask for a refresh token with authorizationParams: { access_type: 'offline', prompt: 'consent' }",
    );
  }
}

function checkRefreshLock(value: unknown): RefreshLock | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as RefreshLock).lock !== 'function') {
    throw new TypeError('"refreshLock" must have a lock(key, ttlMs) method, as redisTokenCache(client) has');
  }
  return value as RefreshLock;
}

export function signinConfig(
  input: AuthOptions = {},
  env: Record<string, string | undefined> = process.env,
): SigninConfig {
  if (typeof input !== 'object' || input === null) throw new TypeError('auth() options must be an object');
  checkKnownOptions('auth()', SIGNIN_OPTIONS, input);
  const options: AuthOptions = {
    ...readEnv(SIGNIN_OPTIONS, input, env),
    ...clientAuthFromEnv(input, env, SIGNIN_OPTIONS),
  };
  const allowInsecureHttp = optionalBoolean(options.allowInsecureHttp, 'allowInsecureHttp', false);
  const issuer = requireCallableUrl(options.issuerBaseURL, 'issuerBaseURL', {
    allowInsecureHttp,
    envName: SIGNIN_OPTIONS.issuerBaseURL.env,
  });
  const baseText = requireString(options.baseURL, 'baseURL', SIGNIN_OPTIONS.baseURL.env);
  let baseURL: URL;
  try {
    baseURL = new URL(baseText);
  } catch {
    throw new TypeError('"baseURL" must be an absolute URL');
  }
  if (baseURL.protocol !== 'https:' && baseURL.protocol !== 'http:')
    throw new TypeError('"baseURL" must be an http(s) URL');
  if (baseURL.search !== '' || baseURL.hash !== '')
    throw new TypeError('"baseURL" must not have a query or fragment');

  const client = validateClientAuth(options, { envPrefix: '' });

  if (options.routes !== undefined && (typeof options.routes !== 'object' || options.routes === null)) {
    throw new TypeError('"routes" must be an object');
  }
  const routes = {
    login: checkPath(options.routes?.login, 'routes.login', '/login'),
    callback: checkPath(options.routes?.callback, 'routes.callback', '/callback'),
    logout: checkPath(options.routes?.logout, 'routes.logout', '/logout'),
    postLogoutCallback: checkPath(
      options.routes?.postLogoutCallback,
      'routes.postLogoutCallback',
      '/logout/callback',
    ),
    backchannelLogout: checkPath(
      options.routes?.backchannelLogout,
      'routes.backchannelLogout',
      '/backchannel-logout',
    ),
  };
  const params = checkAuthorizationParams(options.authorizationParams, 'authorizationParams');
  const responseMode = envValue(SIGNIN_OPTIONS.authorizationParams.fields.response_mode, env);
  if (params.response_mode === undefined && responseMode !== undefined) {
    Object.assign(params, checkAuthorizationParams({ response_mode: responseMode }, 'authorizationParams'));
  }
  const authorizationParams = { ...params, scope: String(params.scope ?? 'openid profile email') };

  const fetchImpl =
    optionalFunction<FetchLike>(options.fetch, 'fetch') ?? ((input, init) => fetch(input, init));
  const postLogoutRedirect = checkPath(options.postLogoutRedirect, 'postLogoutRedirect', '/');
  const idTokenSigningAlg = optionalString(options.idTokenSigningAlg, 'idTokenSigningAlg');
  if (
    idTokenSigningAlg !== undefined &&
    !/^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/.test(idTokenSigningAlg)
  ) {
    throw new TypeError('"idTokenSigningAlg" must be an asymmetric JWS algorithm');
  }
  const logger = validateLogger(options.logger);
  warnWeakenedChecks('auth()', SIGNIN_OPTIONS, options, logger);
  warnKnownIdpQuirks(issuer, authorizationParams, logger);
  const base = baseURL.href.replace(/\/$/, '');
  const config: SigninConfig = {
    issuer,
    baseURL,
    redirectUri: base + routes.callback,
    client,
    authorizationParams,
    routes,
    idpLogout: optionalBoolean(options.idpLogout, 'idpLogout', false),
    postLogoutRedirect,
    authRequired: optionalBoolean(options.authRequired, 'authRequired', false),
    backchannelLogout: optionalBoolean(options.backchannelLogout, 'backchannelLogout', false),
    noStore: optionalBoolean(options.noStore, 'noStore', true),
    pushedAuthorizationRequests: optionalBoolean(
      options.pushedAuthorizationRequests,
      'pushedAuthorizationRequests',
      false,
    ),
    dpop: optionalBoolean(options.dpop, 'dpop', false),
    autoRefresh: optionalBoolean(options.autoRefresh, 'autoRefresh', false),
    mergeUserInfo: optionalBoolean(options.mergeUserInfo, 'mergeUserInfo', false),
    absoluteDuration: optionalNumber(options.absoluteDuration, 'absoluteDuration', 7 * 24 * 3600, { min: 1 }),
    clockTolerance: optionalNumber(options.clockTolerance, 'clockTolerance', 60, { max: 600 }),
    http: {
      fetch: fetchImpl,
      timeout: optionalNumber(options.httpTimeout, 'httpTimeout', DEFAULT_HTTP_TIMEOUT, {
        min: 1,
        max: 120_000,
      }),
      allowInsecureHttp,
    },
    idTokenSigningAlg,
    transactionCookieName:
      optionalString(options.transactionCookieName, 'transactionCookieName') ?? 'portcullis.tx',
    refreshLock: checkRefreshLock(options.refreshLock),
    afterCallback: optionalFunction<NonNullable<AuthOptions['afterCallback']>>(
      options.afterCallback,
      'afterCallback',
    ),
    logger,
  };
  return Object.freeze(config);
}
