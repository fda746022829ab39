/**
 * `auth()` options: merged with the environment, validated once, frozen. Bad configuration throws
 * one TypeError naming the option, at start-up, never later on a request.
 *
 * The IdP settings make one provider (`default`) for a classic config, or come per provider from
 * code (`providers`, `resolveProvider`): then none of them is taken from the environment, so an
 * ISSUER_BASE_URL or CLIENT_SECRET set for something else never joins a provider it was not meant for.
 */

import { DEFAULT_HTTP_TIMEOUT, type FetchLike } from '../protocol/http.js';
import { checkAllowedTenants } from '../protocol/issuer-template.js';
import { type Logger, validateLogger } from '../protocol/logger.js';
import type { SigninEvent } from '../protocol/observability/events.js';
import type { RefreshLock } from '../signin/refresh.js';
import { clientAuthFromEnv } from './client-auth-options.js';
import { signinProfile } from './fapi2.js';
import { checkKnownOptions, envValue, readEnv, warnWeakenedChecks } from './option-spec.js';
import { checkIdTokenSigningAlg, type ProviderConfig, type ProviderDefaults } from './provider.js';
import type { AuthOptions, RoutesConfig, SigninConfig } from './signin.js';
import { SIGNIN_OPTIONS } from './signin-options.js';
import { checkAuthorizationParams } from './signin-params.js';
import { checkProviders, PER_PROVIDER } from './signin-providers.js';
import {
  optionalBoolean,
  optionalFunction,
  optionalNumber,
  optionalString,
  requireCallableUrl,
  requireString,
} from './validate.js';

type Env = Record<string, string | undefined>;

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
function warnKnownIdpQuirks(provider: ProviderConfig, logger: Logger): void {
  if (provider.issuer.hostname !== 'accounts.google.com') return;
  if (String(provider.authorizationParams.scope).split(' ').includes('offline_access')) {
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

function checkBaseURL(value: unknown): URL {
  const baseText = requireString(value, 'baseURL', SIGNIN_OPTIONS.baseURL.env);
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
  return baseURL;
}

function checkRoutes(routes: AuthOptions['routes']): RoutesConfig {
  if (routes !== undefined && (typeof routes !== 'object' || routes === null)) {
    throw new TypeError('"routes" must be an object');
  }
  return {
    login: checkPath(routes?.login, 'routes.login', '/login'),
    callback: checkPath(routes?.callback, 'routes.callback', '/callback'),
    logout: checkPath(routes?.logout, 'routes.logout', '/logout'),
    postLogoutCallback: checkPath(
      routes?.postLogoutCallback,
      'routes.postLogoutCallback',
      '/logout/callback',
    ),
    backchannelLogout: checkPath(
      routes?.backchannelLogout,
      'routes.backchannelLogout',
      '/backchannel-logout',
    ),
  };
}

export function signinConfig(input: AuthOptions = {}, env: Env = process.env): SigninConfig {
  if (typeof input !== 'object' || input === null) throw new TypeError('auth() options must be an object');
  checkKnownOptions('auth()', SIGNIN_OPTIONS, input);
  const multi = input.providers !== undefined || input.resolveProvider !== undefined;
  const merged: AuthOptions = multi
    ? readEnv(SIGNIN_OPTIONS, input, env)
    : { ...readEnv(SIGNIN_OPTIONS, input, env), ...clientAuthFromEnv(input, env, SIGNIN_OPTIONS) };
  // Several providers: the environment's IdP settings join none of them.
  if (multi) for (const name of PER_PROVIDER) if (input[name] === undefined) delete merged[name];
  const options = signinProfile(merged, { classic: !multi });
  const allowInsecureHttp = optionalBoolean(options.allowInsecureHttp, 'allowInsecureHttp', false);
  if (!multi) {
    // Named first, as it always was: the one option without which nothing works.
    requireCallableUrl(options.issuerBaseURL, 'issuerBaseURL', {
      allowInsecureHttp,
      envName: SIGNIN_OPTIONS.issuerBaseURL.env,
    });
  }
  const baseURL = checkBaseURL(options.baseURL);
  const routes = checkRoutes(options.routes);
  const params = checkAuthorizationParams(options.authorizationParams, 'authorizationParams');
  const responseMode = envValue(SIGNIN_OPTIONS.authorizationParams.fields.response_mode, env);
  if (params.response_mode === undefined && responseMode !== undefined) {
    Object.assign(params, checkAuthorizationParams({ response_mode: responseMode }, 'authorizationParams'));
  }
  const fetchImpl =
    optionalFunction<FetchLike>(options.fetch, 'fetch') ?? ((input, init) => fetch(input, init));
  const postLogoutRedirect = checkPath(options.postLogoutRedirect, 'postLogoutRedirect', '/');
  const idTokenSigningAlg = checkIdTokenSigningAlg(
    optionalString(options.idTokenSigningAlg, 'idTokenSigningAlg'),
    'idTokenSigningAlg',
  );
  const logger = validateLogger(options.logger);
  warnWeakenedChecks('auth()', SIGNIN_OPTIONS, options, logger);
  const defaults: ProviderDefaults = Object.freeze({
    baseURL,
    routes,
    authorizationParams: Object.freeze(params),
    pushedAuthorizationRequests: optionalBoolean(
      options.pushedAuthorizationRequests,
      'pushedAuthorizationRequests',
      false,
    ),
    requestObject: optionalBoolean(options.requestObject, 'requestObject', false),
    dpop: optionalBoolean(options.dpop, 'dpop', false),
    idTokenSigningAlg,
    mergeUserInfo: optionalBoolean(options.mergeUserInfo, 'mergeUserInfo', false),
    idpLogout: optionalBoolean(options.idpLogout, 'idpLogout', false),
    revokeOnLogout: optionalBoolean(options.revokeOnLogout, 'revokeOnLogout', false),
    attemptSilentLogin: optionalBoolean(options.attemptSilentLogin, 'attemptSilentLogin', false),
    allowedTenants: checkAllowedTenants(options.allowedTenants, 'allowedTenants'),
    allowInsecureHttp,
    profile: options.profile,
    customFetch: options.fetch !== undefined,
  });
  const config: SigninConfig = {
    baseURL,
    routes,
    postLogoutRedirect,
    authRequired: optionalBoolean(options.authRequired, 'authRequired', false),
    backchannelLogout: optionalBoolean(options.backchannelLogout, 'backchannelLogout', false),
    noStore: optionalBoolean(options.noStore, 'noStore', true),
    autoRefresh: optionalBoolean(options.autoRefresh, 'autoRefresh', false),
    absoluteDuration: optionalNumber(options.absoluteDuration, 'absoluteDuration', 7 * 24 * 3600, { min: 1 }),
    sessionTouchInterval: optionalNumber(options.sessionTouchInterval, 'sessionTouchInterval', 60, {
      max: 86_400,
    }),
    clockTolerance: optionalNumber(options.clockTolerance, 'clockTolerance', 60, { max: 600 }),
    http: {
      fetch: fetchImpl,
      timeout: optionalNumber(options.httpTimeout, 'httpTimeout', DEFAULT_HTTP_TIMEOUT, {
        min: 1,
        max: 120_000,
      }),
      allowInsecureHttp,
    },
    transactionCookieName:
      optionalString(options.transactionCookieName, 'transactionCookieName') ?? 'portcullis.tx',
    refreshLock: checkRefreshLock(options.refreshLock),
    afterCallback: optionalFunction<NonNullable<AuthOptions['afterCallback']>>(
      options.afterCallback,
      'afterCallback',
    ),
    onEvent: optionalFunction<(event: SigninEvent) => void>(options.onEvent, 'onEvent'),
    logger,
    providers: checkProviders(options, input, defaults),
  };
  if (config.providers.kind === 'static') {
    for (const provider of config.providers.byId.values()) warnKnownIdpQuirks(provider, logger);
  }
  return Object.freeze(config);
}
