/**
 * `bearer()` options: merged with the environment, validated once at start-up (one TypeError
 * naming the option), frozen and fully defaulted. Durations in options are seconds.
 */

import type { KeyObject } from 'node:crypto';
import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  HMAC_ALGORITHMS,
  isHmac,
  isJwsAlgorithm,
  type JwsAlgorithm,
} from '../protocol/algorithms.js';
import {
  type ClientAuthConfig,
  type ClientAuthOptions,
  validateClientAuth,
} from '../protocol/client-auth.js';
import type { DpopReplayStore } from '../protocol/dpop/replay-cache.js';
import { DEFAULT_HTTP_TIMEOUT, type FetchLike, type HttpSettings } from '../protocol/http.js';
import type { AllowedTenants } from '../protocol/issuer-template.js';
import { type Logger, validateLogger } from '../protocol/logger.js';
import type { BearerEvent } from '../protocol/observability/events.js';
import { validateBaseURL, validateDpop, validateSecret } from './bearer-dpop.js';
import { stringList, validateIssuers } from './bearer-issuers.js';
import { type BearerMtlsConfig, type BearerMtlsOptions, validateMtls } from './bearer-mtls.js';
import { BEARER_OPTIONS, INTROSPECTION_OPTIONS } from './bearer-options.js';
import { clientAuthFromEnv } from './client-auth-options.js';
import { type ApiProfile, bearerProfile, type SecurityProfile } from './fapi2.js';
import { checkKnownOptions, envValue, readEnv, warnWeakenedChecks } from './option-spec.js';
import {
  optionalBoolean,
  optionalFunction,
  optionalNumber,
  optionalString,
  requireCallableUrl,
} from './validate.js';

/** Introspection (RFC 7662) for opaque tokens: the client credentials `bearer()` calls it with. */
export interface IntrospectionOptions extends ClientAuthOptions {
  /** [API_INTROSPECTION_ENDPOINT] Defaults to the IdP's advertised `introspection_endpoint`. */
  endpoint?: string | URL | undefined;
}

/**
 * DPoP (RFC 9449) at this API. Proofs are checked whenever a request uses the `DPoP` scheme; a
 * DPoP-bound token (`cnf.jkt`) is never accepted as a plain Bearer token, whatever these say.
 */
export interface BearerDpopOptions {
  /** [API_DPOP_REQUIRED] Refuse Bearer tokens: every request needs a DPoP-bound token and a proof. @default false */
  required?: boolean | undefined;
  /** [API_DPOP_NONCE] Demand a server-provided nonce in every proof (RFC 9449 §9). @default false */
  nonce?: boolean | undefined;
  /**
   * [API_DPOP_NONCE_SECRET] The key nonces are derived from (32 bytes or more). Give every process of a
   * fleet the same one, so that a nonce from one is accepted by all. @default random, per process
   */
  nonceSecret?: string | Uint8Array | undefined;
  /** [API_DPOP_NONCE_LIFETIME] Seconds a nonce is current; the previous one is accepted as long again. @default 300 */
  nonceLifetime?: number | undefined;
  /** [API_DPOP_ALGORITHMS] Proof algorithms accepted (asymmetric only). @default ES256, ES384, ES512, EdDSA, PS256–512, RS256–512 */
  algorithms?: string[] | undefined;
  /** [API_DPOP_IAT_WINDOW] Seconds a proof's `iat` may be from now, either way, plus `clockTolerance`. @default 60 */
  iatWindow?: number | undefined;
  /** [API_DPOP_REPLAY_CACHE_MAX_ENTRIES] Proofs (`jti`) remembered to refuse replays. @default 100000 */
  replayCacheMaxEntries?: number | undefined;
  /**
   * Where seen proofs are kept. On a fleet, `redisDpopReplayStore(redisClient)`, so that a proof
   * replayed to another process is refused too. @default this process's memory
   */
  replayStore?: DpopReplayStore | undefined;
}

/** One IdP of `bearer({ issuers: [...] })`: where its keys come from, and what its tokens must say. */
export interface BearerIssuerOptions {
  /** The IdP; its discovery document gives `issuer` and `jwks_uri`. */
  issuerBaseURL?: string | URL | undefined;
  /** The expected `iss`, or several; with `jwksUri` when there is no discovery. */
  issuer?: string | string[] | undefined;
  /** The IdP's keys, when there is no discovery. */
  jwksUri?: string | URL | undefined;
  /** The `aud` this API accepts from this IdP. @default the top-level `audience` */
  audience?: string | string[] | undefined;
  /** For a templated issuer (`{tenantid}`): the tenants accepted. @default the top-level `allowedTenants` */
  allowedTenants?: AllowedTenants | undefined;
}

export interface BearerOptions {
  /** [ISSUER_BASE_URL] The IdP; its discovery document gives `issuer` and `jwks_uri`. */
  issuerBaseURL?: string | URL | undefined;
  /** [API_ISSUER] The expected `iss`, or several (multi-tenant). Overrides the discovered issuer. */
  issuer?: string | string[] | undefined;
  /** [API_JWKS_URI] The IdP's keys, when there is no discovery. */
  jwksUri?: string | URL | undefined;
  /** [AUDIENCE] Required: the `aud` this API accepts (one of a list). */
  audience?: string | string[] | undefined;
  /**
   * Several IdPs, one entry each (`issuerBaseURL` or `issuer` + `jwksUri`, and its `audience`). The
   * token's `iss` picks the entry before any network call: a token from an issuer not listed is refused
   * (`invalid_token`) and makes no request, so a token can never make the API call a URL of its
   * choosing. Each entry has its own discovery, JWKS cache and cooldown, fetched on its first token.
   * `req.auth.issuer` names the issuer. Instead of `issuerBaseURL`, `issuer` and `jwksUri`.
   * @example bearer({ issuers: [{ issuerBaseURL: 'https://sso.corp.example', audience: 'api' },
   *                             { issuerBaseURL: 'https://idp.partner.example', audience: 'api' }] })
   */
  issuers?: readonly BearerIssuerOptions[] | undefined;
  /**
   * [API_ALLOWED_TENANTS] For a templated issuer (Entra ID's `/organizations/v2.0` and `/common/v2.0`,
   * whose metadata `issuer` holds `{tenantid}`): the tenants (`tid`) whose tokens are accepted, or a
   * predicate. The expected `iss` is the template with the token's `tid`. Without it, no tenant's
   * token is accepted: one set of keys signs for every tenant of the IdP.
   */
  allowedTenants?: AllowedTenants | undefined;
  /**
   * [API_BASE_URL] The API's public URL, as clients call it (`https://api.example.com`). DPoP proofs'
   * `htu` is compared with it plus the request's path, never with the `Host` header. Setting it
   * turns DPoP on (with `dpop`'s defaults).
   */
  baseURL?: string | URL | undefined;
  /**
   * DPoP (RFC 9449): `true` or options. @default on (not required, no nonce) when `baseURL` is set;
   * without `baseURL` proofs cannot be checked, so DPoP-bound tokens are refused. `false` turns the
   * DPoP scheme off (bound tokens are still refused).
   */
  dpop?: boolean | BearerDpopOptions | undefined;
  /**
   * [API_PROFILE] `'fapi2'`: follow the FAPI 2.0 Security Profile. Only sender-constrained tokens are
   * accepted: a DPoP-bound token with its proof (set `baseURL`), or a certificate-bound one with
   * `mtls`; a plain Bearer token is `401 invalid_token`. Tokens and proofs signed PS256, ES256 or
   * EdDSA only, tokens in the `Authorization` header only, `clockTolerance` 10 to 60 s (default 10).
   * A conflicting option is a start-up TypeError naming the rule. See docs/fapi2.md.
   * @example bearer({ profile: 'fapi2', issuerBaseURL, audience, baseURL: 'https://api.example.com' })
   * @see https://openid.net/specs/fapi-security-profile-2_0-final.html
   */
  profile?: SecurityProfile | undefined;
  /**
   * [API_MTLS] Certificate-bound access tokens (RFC 8705 §3): a token with `cnf.x5t#S256` is accepted
   * only from the client certificate it is bound to, that of the TLS connection to this process (an
   * https server with `requestCert: true`), or behind a TLS-terminating proxy, of the header named by
   * `trustedHeader`. A token that is not bound is accepted as before, unless `required`.
   * @default off: certificate-bound tokens are refused, as their binding cannot be checked
   * @example bearer({ ..., mtls: true }) // or mtls: { trustedHeader: 'nginx' } behind nginx
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
   */
  mtls?: boolean | BearerMtlsOptions | undefined;
  /**
   * [API_ALGORITHMS] Allowed JWS algorithms. @default every asymmetric one (RS, PS, ES, EdDSA); the
   * HMAC ones when only a `secret` is given. `none` is never accepted.
   */
  algorithms?: string[] | undefined;
  /**
   * [API_SECRET] A shared secret (32 bytes or more) for HS256/384/512 tokens.
   * > [!WARNING] Anyone holding the secret can mint tokens; prefer asymmetric keys.
   */
  secret?: string | Uint8Array | undefined;
  /** [API_CLOCK_TOLERANCE] Seconds of leeway on `exp`, `nbf` and `iat`. @default 5 */
  clockTolerance?: number | undefined;
  /** [API_MAX_TOKEN_AGE] Refuse tokens issued (`iat`) longer ago than this many seconds. */
  maxTokenAge?: number | undefined;
  /**
   * [API_ALLOW_JWT_TYP] Also accept `typ: JWT` or no `typ`, besides RFC 9068's `at+jwt`. @default false
   * > [!WARNING] Lets an ID token signed by the same IdP pass as an access token if its `aud` matches.
   */
  allowJWTTyp?: boolean | undefined;
  /**
   * [API_CLIENT_ID_AS_AUDIENCE] Accept a token that has no `aud` when its `client_id` is one of
   * `audience` (and its `token_use`, if any, is `access`): Amazon Cognito's access tokens carry
   * `client_id` instead of `aud`. A token with an `aud` is still judged by its `aud`. @default false
   * > [!WARNING] `client_id` names the client the token was issued to, not the API it is for.
   */
  clientIdAsAudience?: boolean | undefined;
  /** [API_REALM] The `realm` of `WWW-Authenticate` challenges. @default 'api' */
  realm?: string | undefined;
  /** [API_AUTH_REQUIRED] When false, a request without a token goes on without `req.auth`. @default true */
  authRequired?: boolean | undefined;
  /** [API_ALLOW_QUERY_TOKEN] Also read `?access_token=` (RFC 6750 §2.3). @default false */
  allowQueryToken?: boolean | undefined;
  /** [API_ALLOW_BODY_TOKEN] Also read a parsed urlencoded `req.body.access_token` (§2.2). @default false */
  allowBodyToken?: boolean | undefined;
  /** [API_MAX_TOKEN_LENGTH] Longer tokens are refused before any parsing. @default 8192 */
  maxTokenLength?: number | undefined;
  /** [API_PERMISSIONS_AS_SCOPES] Count the `permissions` claim as scopes. @default false */
  permissionsAsScopes?: boolean | undefined;
  /** [API_JWKS_COOLDOWN] Seconds between JWKS refetches caused by unknown `kid`s. @default 30 */
  jwksCooldown?: number | undefined;
  /** [API_JWKS_CACHE_MAX_AGE] Seconds after which the JWKS is refreshed in the background. @default 600 */
  jwksCacheMaxAge?: number | undefined;
  /**
   * [API_TOKEN_CACHE_MAX_ENTRIES] Verified tokens remembered (0 turns the cache off). An entry costs
   * about 1.4 KB with a 640-byte token (half of it the token itself), so the default holds 14 MB at
   * most, and only with 10,000 distinct tokens in use within `cacheMaxAge`. Once full, a new token
   * displaces an old one only if it was sent more often lately (docs/protecting-apis.md).
   * @default 10000
   */
  cacheMaxEntries?: number | undefined;
  /** [API_TOKEN_CACHE_MAX_AGE] Seconds a verdict is reused at most (never past `exp`). @default 300 */
  cacheMaxAge?: number | undefined;
  /** Validate opaque (non-JWT) tokens at the IdP's introspection endpoint; `true` reads CLIENT_ID etc. */
  introspection?: boolean | IntrospectionOptions | undefined;
  /** The fetch used to reach the IdP (proxies, custom CAs). Not with `introspection.tlsClientCertificate`. @default globalThis.fetch */
  fetch?: FetchLike | undefined;
  /** [API_HTTP_TIMEOUT] Milliseconds before a call to the IdP is abandoned. @default 5000 */
  httpTimeout?: number | undefined;
  /**
   * [API_ALLOW_INSECURE_HTTP] Allow plain http to non-loopback hosts.
   * > [!WARNING] Keys fetched over http can be replaced in transit.
   */
  allowInsecureHttp?: boolean | undefined;
  /**
   * A pino-compatible logger (`pino()`, or `console`): start-up warnings of weakened checks, and why
   * each token was refused (at `info`), with what was expected and what was received.
   * @default warnings to `console.warn`, nothing else
   */
  logger?: Logger | undefined;
  /**
   * Told of every verdict and every call to the IdP: `bearer.accepted` (`cached` when the verdict came
   * from the cache of verified tokens), `bearer.rejected` (`reason`, `expected`, `received`, as the log
   * line has them), `bearer.failed` (the IdP could not be read), and `idp.jwks.…` / `idp.introspection.…`.
   * The same events go to the `portcullis:bearer` diagnostics channel and OpenTelemetry. No event holds
   * a token; a hook that throws is ignored. Runs on every request: keep it quick. See docs/observability.md.
   * @example bearer({ issuerBaseURL, audience, onEvent: (e) => e.type === 'bearer.rejected' && metrics.refused(e.reason) })
   */
  onEvent?: ((event: BearerEvent) => void) | undefined;
}

export interface BearerDpopConfig {
  readonly required: boolean;
  /** `undefined` when nonces are off. */
  readonly nonce: { readonly secret: KeyObject; readonly lifetime: number } | undefined;
  readonly algorithms: readonly AsymmetricAlgorithm[];
  /** Seconds. */
  readonly iatWindow: number;
  readonly replayCacheMaxEntries: number;
  /** A shared store, or `undefined` for the in-process cache. */
  readonly replayStore: DpopReplayStore | undefined;
  /** `baseURL` without its trailing slash: the request's path is appended to it for `htu`. */
  readonly htuBase: string;
}

/** Where one issuer's keys come from and what its tokens must say: the whole config, or one of `issuers`. */
export interface BearerIssuerConfig {
  readonly issuerBaseURL: URL | undefined;
  readonly issuers: readonly string[] | undefined;
  readonly jwksUri: URL | undefined;
  readonly audiences: readonly string[];
  readonly allowedTenants: AllowedTenants | undefined;
}

export interface BearerConfig extends BearerIssuerConfig {
  /** With `issuers`: one config per IdP, picked by the token's `iss`; the top-level four are then unset. */
  readonly issuerConfigs: readonly BearerIssuerConfig[] | undefined;
  readonly baseURL: URL | undefined;
  /** `undefined`: the DPoP scheme is off (and DPoP-bound tokens are refused). */
  readonly dpop: BearerDpopConfig | undefined;
  /** With `profile`: only sender-constrained tokens pass. */
  readonly profile: ApiProfile | undefined;
  /** `undefined`: certificate-bound tokens are refused. */
  readonly mtls: BearerMtlsConfig | undefined;
  readonly algorithms: readonly JwsAlgorithm[];
  readonly secret: KeyObject | undefined;
  readonly clockTolerance: number;
  readonly maxTokenAge: number | undefined;
  readonly allowJWTTyp: boolean;
  readonly clientIdAsAudience: boolean;
  readonly realm: string;
  readonly authRequired: boolean;
  readonly allowQueryToken: boolean;
  readonly allowBodyToken: boolean;
  readonly maxTokenLength: number;
  readonly permissionsAsScopes: boolean;
  /** Milliseconds. */
  readonly jwksCooldown: number;
  /** Milliseconds. */
  readonly jwksCacheMaxAge: number;
  readonly cacheMaxEntries: number;
  /** Milliseconds. */
  readonly cacheMaxAge: number;
  readonly introspection:
    | { readonly client: ClientAuthConfig; readonly endpoint: URL | undefined }
    | undefined;
  readonly http: HttpSettings;
  readonly logger: Logger;
  readonly onEvent: ((event: BearerEvent) => void) | undefined;
}

type Env = Record<string, string | undefined>;

function validateAlgorithms(value: unknown, hasSecret: boolean): JwsAlgorithm[] {
  if (value === undefined) return hasSecret ? [...HMAC_ALGORITHMS] : [...ASYMMETRIC_ALGORITHMS];
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError('"algorithms" must be a non-empty list of JWS algorithms');
  }
  for (const alg of value) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      throw new TypeError('"algorithms" must not contain "none"');
    }
    if (!isJwsAlgorithm(alg)) throw new TypeError(`"algorithms" contains an unsupported algorithm`);
    if (isHmac(alg) && !hasSecret) {
      throw new TypeError('"algorithms" may contain HMAC algorithms only together with a "secret"');
    }
  }
  return [...new Set(value as JwsAlgorithm[])];
}

function validateIntrospection(
  value: unknown,
  env: Env,
  { allowInsecureHttp, customFetch }: { allowInsecureHttp: boolean; customFetch: boolean },
): BearerConfig['introspection'] {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null)) {
    throw new TypeError('"introspection" must be true or an object with client credentials');
  }
  const given = value === true ? {} : (value as IntrospectionOptions);
  const client = validateClientAuth(clientAuthFromEnv(given, env, INTROSPECTION_OPTIONS), {
    envPrefix: 'API_',
    optionPrefix: 'introspection.',
    customFetch,
  });
  const endpointValue = given.endpoint ?? envValue(INTROSPECTION_OPTIONS.endpoint, env);
  const endpoint =
    endpointValue === undefined
      ? undefined
      : requireCallableUrl(endpointValue, 'introspection.endpoint', { allowInsecureHttp });
  return Object.freeze({ client, endpoint });
}

/** Validate `bearer()` options; throws one TypeError naming the option. */
export function validateBearerOptions(input: BearerOptions, env: Env = process.env): BearerConfig {
  if (typeof input !== 'object' || input === null) throw new TypeError('bearer() options must be an object');
  checkKnownOptions('bearer()', BEARER_OPTIONS, input);
  // Where the keys come from is taken whole: `issuer` + `jwksUri` in code never meet an
  // ISSUER_BASE_URL set for sign-in, which would add a discovery the app did not ask for.
  // With `issuers`, every IdP is named in code: none of the environment's joins them.
  const explicitKeys = input.issuer !== undefined || input.jwksUri !== undefined;
  const o = readEnv(BEARER_OPTIONS, input, env);
  if ((explicitKeys || input.issuers !== undefined) && input.issuerBaseURL === undefined)
    delete o.issuerBaseURL;
  if (input.issuers !== undefined) {
    if (input.issuer === undefined) delete o.issuer;
    if (input.jwksUri === undefined) delete o.jwksUri;
  }
  const profile = bearerProfile(o as Record<string, unknown>);
  const logger = validateLogger(o.logger);
  warnWeakenedChecks('bearer()', BEARER_OPTIONS, o, logger);
  const allowInsecureHttp = optionalBoolean(o.allowInsecureHttp, 'allowInsecureHttp', false);
  if (o.issuers === undefined) stringList(o.audience, 'audience', 'AUDIENCE'); // checked first, as always
  const baseURL = validateBaseURL(o.baseURL);
  const dpop = validateDpop(o.dpop, baseURL);
  const mtls = validateMtls(o.mtls, env);
  const secret = validateSecret(o.secret);
  const algorithms = validateAlgorithms(o.algorithms, secret !== undefined);
  const needsKeys = algorithms.some((alg) => !isHmac(alg));

  const { top, entries } = validateIssuers(o, input, { allowInsecureHttp, needsKeys });
  const fetchImpl = o.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('"fetch" must be a function');
  const introspection = validateIntrospection(o.introspection, env, {
    allowInsecureHttp,
    customFetch: o.fetch !== undefined,
  });
  if (
    introspection !== undefined &&
    introspection.endpoint === undefined &&
    top.issuerBaseURL === undefined
  ) {
    throw new TypeError('"introspection.endpoint" is required when there is no "issuerBaseURL"');
  }

  return Object.freeze({
    ...top,
    issuerConfigs: entries,
    baseURL,
    dpop,
    profile,
    mtls,
    algorithms: Object.freeze(algorithms),
    secret,
    clockTolerance: optionalNumber(o.clockTolerance, 'clockTolerance', 5, { max: 3600 }),
    maxTokenAge:
      o.maxTokenAge === undefined ? undefined : optionalNumber(o.maxTokenAge, 'maxTokenAge', 0, { min: 1 }),
    allowJWTTyp: optionalBoolean(o.allowJWTTyp, 'allowJWTTyp', false),
    clientIdAsAudience: optionalBoolean(o.clientIdAsAudience, 'clientIdAsAudience', false),
    realm: optionalString(o.realm, 'realm') ?? 'api',
    authRequired: optionalBoolean(o.authRequired, 'authRequired', true),
    allowQueryToken: optionalBoolean(o.allowQueryToken, 'allowQueryToken', false),
    allowBodyToken: optionalBoolean(o.allowBodyToken, 'allowBodyToken', false),
    maxTokenLength: optionalNumber(o.maxTokenLength, 'maxTokenLength', 8192, { min: 256, max: 65536 }),
    permissionsAsScopes: optionalBoolean(o.permissionsAsScopes, 'permissionsAsScopes', false),
    jwksCooldown: optionalNumber(o.jwksCooldown, 'jwksCooldown', 30, { max: 86400 }) * 1000,
    jwksCacheMaxAge: optionalNumber(o.jwksCacheMaxAge, 'jwksCacheMaxAge', 600, { max: 7 * 86400 }) * 1000,
    cacheMaxEntries: optionalNumber(o.cacheMaxEntries, 'cacheMaxEntries', 10_000, { max: 1_000_000 }),
    cacheMaxAge: optionalNumber(o.cacheMaxAge, 'cacheMaxAge', 300, { max: 86400 }) * 1000,
    introspection,
    http: Object.freeze({
      fetch: fetchImpl,
      timeout: optionalNumber(o.httpTimeout, 'httpTimeout', DEFAULT_HTTP_TIMEOUT, { min: 1, max: 120_000 }),
      allowInsecureHttp,
    }),
    logger,
    onEvent: optionalFunction<(event: BearerEvent) => void>(o.onEvent, 'onEvent'),
  });
}
