/**
 * `bearer()`'s options validated once, at start-up: merged with the environment, each checked by the
 * module of its concern (issuers, DPoP, mTLS, introspection), one TypeError naming the option, then
 * frozen and fully defaulted.
 */
import {
  ASYMMETRIC_ALGORITHMS,
  HMAC_ALGORITHMS,
  isHmac,
  isJwsAlgorithm,
  type JwsAlgorithm,
} from '../protocol/algorithms.js';
import { DEFAULT_HTTP_TIMEOUT } from '../protocol/http.js';
import { validateLogger } from '../protocol/logger.js';
import type { BearerEvent } from '../protocol/observability/events.js';
import type { BearerConfig, BearerOptions } from './bearer.js';
import { validateBaseURL, validateDpop, validateSecret } from './bearer-dpop.js';
import { validateIntrospection } from './bearer-introspection.js';
import { stringList, validateIssuers } from './bearer-issuers.js';
import { validateMtls } from './bearer-mtls.js';
import { BEARER_OPTIONS } from './bearer-options.js';
import { bearerProfile } from './fapi2.js';
import { checkKnownOptions, readEnv, warnWeakenedChecks } from './option-spec.js';
import { optionalBoolean, optionalFunction, optionalNumber, optionalString } from './validate.js';

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
