/**
 * `bearer()`'s DPoP options (RFC 9449) and the two values they rest on: the API's public URL, which
 * proofs' `htu` is checked against, and secrets of 32 bytes or more (the nonce key, the HMAC secret).
 */
import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from '../protocol/algorithms.js';
import type { DpopReplayStore } from '../protocol/dpop/replay-cache.js';
import { optionalBoolean, optionalNumber } from './validate.js';

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

export function validateSecret(value: unknown, option = 'secret'): KeyObject | undefined {
  if (value === undefined) return undefined;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (!(bytes instanceof Uint8Array) || bytes.length < 32) {
    throw new TypeError(`"${option}" must be a string or bytes of at least 32 bytes`);
  }
  return createSecretKey(bytes);
}

/** The API's public URL: absolute http(s), no credentials, query or fragment. Never called. */
export function validateBaseURL(value: unknown): URL | undefined {
  if (value === undefined) return undefined;
  const text = value instanceof URL ? value.href : value;
  let url: URL | undefined;
  try {
    url = typeof text === 'string' ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TypeError(
      '"baseURL" must be an absolute http(s) URL (or the API_BASE_URL environment variable)',
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new TypeError('"baseURL" must not contain credentials, a query or a fragment');
  }
  return url;
}

/** Proof algorithms, strongest-supported first as `algs` lists them: EC, EdDSA, then RSA. */
const DPOP_ALGORITHMS: readonly AsymmetricAlgorithm[] = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
];

function validateDpopAlgorithms(value: unknown): AsymmetricAlgorithm[] {
  if (value === undefined) return [...DPOP_ALGORITHMS];
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError('"dpop.algorithms" must be a non-empty list of asymmetric JWS algorithms');
  }
  for (const alg of value) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly unknown[]).includes(alg)) {
      throw new TypeError(
        '"dpop.algorithms" may contain only asymmetric JWS algorithms (no "none", no HMAC)',
      );
    }
  }
  return [...new Set(value as AsymmetricAlgorithm[])];
}

export function validateDpop(value: unknown, baseURL: URL | undefined): BearerDpopConfig | undefined {
  if (value === false || (value === undefined && baseURL === undefined)) return undefined;
  if (
    value !== undefined &&
    value !== true &&
    (typeof value !== 'object' || value === null || Array.isArray(value))
  ) {
    throw new TypeError('"dpop" must be a boolean or an object ({ required, nonce, ... })');
  }
  if (baseURL === undefined) {
    throw new TypeError('"baseURL" (or API_BASE_URL) is required with "dpop": proofs are checked against it');
  }
  const o: BearerDpopOptions = typeof value === 'object' ? (value as BearerDpopOptions) : {};
  const nonce = optionalBoolean(o.nonce, 'dpop.nonce', false);
  const nonceSecret = validateSecret(o.nonceSecret, 'dpop.nonceSecret');
  const nonceLifetime = optionalNumber(o.nonceLifetime, 'dpop.nonceLifetime', 300, { min: 10, max: 86400 });
  return Object.freeze({
    required: optionalBoolean(o.required, 'dpop.required', false),
    nonce: nonce
      ? Object.freeze({
          secret: nonceSecret ?? createSecretKey(randomBytes(32)),
          lifetime: nonceLifetime * 1000,
        })
      : undefined,
    algorithms: Object.freeze(validateDpopAlgorithms(o.algorithms)),
    iatWindow: optionalNumber(o.iatWindow, 'dpop.iatWindow', 60, { min: 1, max: 3600 }),
    replayCacheMaxEntries: optionalNumber(o.replayCacheMaxEntries, 'dpop.replayCacheMaxEntries', 100_000, {
      min: 1000,
      max: 10_000_000,
    }),
    replayStore: validateReplayStore(o.replayStore),
    htuBase: `${baseURL.origin}${baseURL.pathname.replace(/\/+$/, '')}`,
  });
}

function validateReplayStore(value: unknown): DpopReplayStore | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as { admit?: unknown } | null)?.admit !== 'function') {
    throw new TypeError(
      '"dpop.replayStore" must have an admit(key, expiresAt, now) method (redisDpopReplayStore())',
    );
  }
  return value as DpopReplayStore;
}
