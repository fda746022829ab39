/**
 * serviceAgent() options: the environment is merged first (explicit options win), then every rule
 * is checked once, here, so that bad configuration throws one TypeError naming the option at
 * start-up and never fails later on a call.
 */
import {
  type ClientAuthConfig,
  type ClientAuthOptions,
  validateClientAuth,
} from '../protocol/client-auth.js';
import type { DpopKey } from '../protocol/dpop/key-pair.js';
import type { ClientProfile } from '../protocol/fapi2.js';
import { DEFAULT_HTTP_TIMEOUT, type FetchLike } from '../protocol/http.js';
import { type Logger, validateLogger } from '../protocol/logger.js';
import type { AgentEvent } from '../protocol/observability/events.js';
import type { TokenCache } from '../service/token-cache.js';
import { clientAuthFromEnv } from './client-auth-options.js';
import { compact } from './env.js';
import { type SecurityProfile, serviceOptions, serviceProfile } from './fapi2.js';
import { checkKnownOptions, readEnv, warnWeakenedChecks } from './option-spec.js';
import { dpopOption, dpopWithEnv, type ServiceAgentDpopOptions } from './service-dpop.js';
import { SERVICE_OPTIONS } from './service-options.js';
import { optionalBoolean, optionalFunction, optionalNumber, requireCallableUrl } from './validate.js';

export interface ServiceAgentOptions extends ClientAuthOptions {
  /** [ISSUER_BASE_URL] The IdP; its token endpoint comes from discovery. Or give `tokenEndpoint`. */
  issuerBaseURL?: string | URL | undefined;
  /** [SERVICE_TOKEN_ENDPOINT] The token endpoint, when the IdP has no discovery document. Wins over discovery. */
  tokenEndpoint?: string | URL | undefined;
  /** [SERVICE_AUDIENCE] The `audience` token parameter (Auth0, Okta and others). */
  audience?: string | undefined;
  /** [SERVICE_RESOURCE] RFC 8707 resource indicator(s): absolute URIs. */
  resource?: string | string[] | undefined;
  /** [SERVICE_SCOPE] Space separated string or a list. */
  scope?: string | string[] | undefined;
  /** [SERVICE_TOKEN_PARAMS] Extra token request parameters (env: a query string, `a=1&b=2`). */
  tokenParams?: Record<string, string> | undefined;
  /** The token cache. @default an in-process `memoryTokenCache()` for this agent */
  cache?: TokenCache | undefined;
  /**
   * [SERVICE_TOKEN_REFRESH_RATIO] Share of a token's lifetime after which the next call refreshes it in
   * the background while the current one keeps being sent. @default 0.8
   */
  refreshRatio?: number | undefined;
  /**
   * [SERVICE_TOKEN_EXPIRY_MARGIN] Seconds before expiry within which a token is never sent; capped at a
   * tenth of the token's lifetime so that short-lived tokens still get used. @default 30
   */
  expiryMargin?: number | undefined;
  /** [SERVICE_HTTP_TIMEOUT] Milliseconds per token request before it is abandoned. @default 5000 */
  httpTimeout?: number | undefined;
  /** [SERVICE_TOKEN_REQUEST_RETRIES] Retries of a token request after a network error or a 5xx. @default 2 */
  retries?: number | undefined;
  /**
   * [SERVICE_TOKEN_EXCHANGE] Enable `onBehalfOf(subjectToken)`: tokens from the RFC 8693 token-exchange grant
   * for the signed-in user, cached per subject token and audience. @default false
   */
  tokenExchange?: boolean | undefined;
  /**
   * [SERVICE_DPOP] RFC 9449: DPoP-bound tokens. Every token request and every call carries a fresh
   * proof of the agent's key, and calls use `Authorization: DPoP`. An IdP that answers with a Bearer
   * token is refused (`ERR_DPOP_NOT_BOUND`).
   * @default false
   * @example serviceAgent({ ..., dpop: true }) // or dpop: { key: privateJwk } to share a key across a fleet
   * @see https://www.rfc-editor.org/rfc/rfc9449
   */
  dpop?: boolean | ServiceAgentDpopOptions | undefined;
  /**
   * [SERVICE_PROFILE] `'fapi2'`: follow the FAPI 2.0 Security Profile. `private_key_jwt` (or mTLS)
   * client authentication, DPoP-bound tokens (unless a TLS client certificate binds them), PS256,
   * ES256 or EdDSA for the client assertion and the proofs (an RSA key signs PS256), https only; an
   * IdP whose metadata lacks what the profile needs is `ERR_IDP_INCOMPATIBLE` at the first token
   * request. A conflicting option is a start-up TypeError naming the rule. See docs/fapi2.md.
   * @example serviceAgent({ profile: 'fapi2', issuerBaseURL, clientID, clientAssertionSigningKey, audience })
   * @see https://openid.net/specs/fapi-security-profile-2_0-final.html
   */
  profile?: SecurityProfile | undefined;
  /**
   * [SERVICE_ALLOW_INSECURE_HTTP] Allow plain http to non-loopback hosts.
   * > [!WARNING] Tokens and client secrets then cross the network in clear text.
   * @default false
   */
  allowInsecureHttp?: boolean | undefined;
  /**
   * The fetch used for token requests and for `agent.fetch()`. Not with `tlsClientCertificate`: the calls
   * that present it go through portcullis's own https client. @default globalThis.fetch
   */
  fetch?: FetchLike | undefined;
  /**
   * Told of every `agent.…` event: a token fetched, refreshed or failed, a cache hit or miss, a call
   * retried. The same events go to the `portcullis:agent` diagnostics channel and OpenTelemetry.
   * Payloads hold no token or secret; a hook that throws is ignored. See docs/observability.md.
   */
  onEvent?: ((event: AgentEvent) => void) | undefined;
  /**
   * A pino-compatible logger (`pino()`, or `console`): start-up warnings, and when a shared cache
   * fails or recovers. Never given a secret. @default warnings to `console.warn`
   */
  logger?: Logger | undefined;
}

export interface ServiceAgentConfig {
  readonly issuer: URL | undefined;
  readonly tokenEndpoint: URL | undefined;
  readonly clientAuth: ClientAuthConfig;
  /** The token request parameters other than grant_type, in a stable order. */
  readonly params: ReadonlyArray<readonly [string, string]>;
  readonly cache: TokenCache | undefined;
  readonly refreshRatio: number;
  readonly expiryMargin: number;
  readonly httpTimeout: number;
  readonly retries: number;
  readonly tokenExchange: boolean;
  /** The DPoP key, parsed (or generated) and checked at start-up; `undefined` without DPoP. */
  readonly dpop: DpopKey | undefined;
  /** With `profile`: what the token requests check of the IdP. */
  readonly profile: ClientProfile | undefined;
  readonly allowInsecureHttp: boolean;
  readonly fetch: FetchLike | undefined;
  readonly onEvent: ((event: AgentEvent) => void) | undefined;
  readonly logger: Logger;
}

/** Merge the environment into the options; explicit options win. */
export function serviceOptionsFromEnv(
  options: ServiceAgentOptions,
  env: Record<string, string | undefined>,
): ServiceAgentOptions {
  checkKnownOptions('serviceAgent()', SERVICE_OPTIONS, options);
  // Where tokens come from is taken whole: an explicit issuerBaseURL or tokenEndpoint is never mixed
  // with an ISSUER_BASE_URL meant for auth() (it would become the private_key_jwt audience).
  const explicitEndpoint = options.issuerBaseURL !== undefined || options.tokenEndpoint !== undefined;
  const merged = readEnv(SERVICE_OPTIONS, { ...options, dpop: dpopWithEnv(options.dpop, env) }, env);
  return compact<ServiceAgentOptions>({
    ...merged,
    ...clientAuthFromEnv(options, env, SERVICE_OPTIONS),
    issuerBaseURL: explicitEndpoint ? options.issuerBaseURL : merged.issuerBaseURL,
    tokenEndpoint: explicitEndpoint ? options.tokenEndpoint : merged.tokenEndpoint,
  });
}

function stringList(value: unknown, option: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item === '')) {
    throw new TypeError(`"${option}" must be a string or a list of non-empty strings`);
  }
  return list as string[];
}

function resources(value: unknown): string[] {
  const list = stringList(value, 'resource');
  for (const item of list) {
    // RFC 8707 §2: an absolute URI without a fragment.
    if (!URL.canParse(item) || new URL(item).hash !== '') {
      throw new TypeError('"resource" must be absolute URIs without a fragment');
    }
  }
  return list;
}

function tokenParams(value: unknown): Array<[string, string]> {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('"tokenParams" must be an object of string values');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [name, v] of entries) {
    if (typeof v !== 'string') throw new TypeError('"tokenParams" must be an object of string values');
    if (
      ['grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type'].includes(name)
    ) {
      throw new TypeError(`"tokenParams" must not set "${name}"`);
    }
  }
  return entries as Array<[string, string]>;
}

function cacheOption(value: unknown): TokenCache | undefined {
  if (value === undefined) return undefined;
  const cache = value as Partial<TokenCache>;
  if (
    typeof cache.get !== 'function' ||
    typeof cache.set !== 'function' ||
    typeof cache.delete !== 'function'
  ) {
    throw new TypeError('"cache" must implement get, set and delete (see the TokenCache contract)');
  }
  return value as TokenCache;
}

function wholeNumber(value: unknown, option: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new TypeError(`"${option}" must be a whole number from 0 to ${max}`);
  }
  return value;
}

/** Validate once; the result is frozen and fully defaulted. */
export function validateServiceOptions(given: ServiceAgentOptions): ServiceAgentConfig {
  if (typeof given !== 'object' || given === null) {
    throw new TypeError('serviceAgent() expects an options object');
  }
  const options = serviceOptions(given);
  const allowInsecureHttp = optionalBoolean(options.allowInsecureHttp, 'allowInsecureHttp', false);
  if (options.issuerBaseURL === undefined && options.tokenEndpoint === undefined) {
    throw new TypeError(
      '"issuerBaseURL" or "tokenEndpoint" is required (or the ISSUER_BASE_URL or SERVICE_TOKEN_ENDPOINT environment variable)',
    );
  }
  const issuer =
    options.issuerBaseURL === undefined
      ? undefined
      : requireCallableUrl(options.issuerBaseURL, 'issuerBaseURL', { allowInsecureHttp });
  const tokenEndpoint =
    options.tokenEndpoint === undefined
      ? undefined
      : requireCallableUrl(options.tokenEndpoint, 'tokenEndpoint', { allowInsecureHttp });
  const clientAuth = validateClientAuth(options, {
    envPrefix: 'SERVICE_',
    customFetch: options.fetch !== undefined,
  });

  const params: Array<[string, string]> = [];
  const scope = stringList(options.scope, 'scope');
  if (scope.length > 0) params.push(['scope', [...new Set(scope)].sort().join(' ')]);
  if (options.audience !== undefined) {
    if (typeof options.audience !== 'string' || options.audience === '') {
      throw new TypeError('"audience" must be a non-empty string');
    }
    params.push(['audience', options.audience]);
  }
  for (const resource of [...new Set(resources(options.resource))].sort())
    params.push(['resource', resource]);
  params.push(...tokenParams(options.tokenParams).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

  const logger = validateLogger(options.logger);
  warnWeakenedChecks('serviceAgent()', SERVICE_OPTIONS, options, logger);
  const dpop = dpopOption(options.dpop);

  return Object.freeze({
    issuer,
    tokenEndpoint,
    clientAuth,
    params: Object.freeze(params),
    cache: cacheOption(options.cache),
    refreshRatio: optionalNumber(options.refreshRatio, 'refreshRatio', 0.8, { min: 0.1, max: 0.95 }),
    expiryMargin: optionalNumber(options.expiryMargin, 'expiryMargin', 30, { min: 0, max: 3600 }),
    httpTimeout: optionalNumber(options.httpTimeout, 'httpTimeout', DEFAULT_HTTP_TIMEOUT, {
      min: 1,
      max: 600_000,
    }),
    retries: wholeNumber(options.retries, 'retries', 2, 10),
    tokenExchange: optionalBoolean(options.tokenExchange, 'tokenExchange', false),
    dpop,
    profile: serviceProfile(options, clientAuth, dpop),
    allowInsecureHttp,
    fetch: optionalFunction<FetchLike>(options.fetch, 'fetch'),
    onEvent: optionalFunction<(event: AgentEvent) => void>(options.onEvent, 'onEvent'),
    logger,
  });
}
