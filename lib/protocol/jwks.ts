/**
 * The IdP's signing keys (RFC 7517 JWK Set), as a request/process pair plus a store.
 *
 * - Fetched lazily, once at a time (single flight), and kept: keys are imported with jose once per
 *   fetch, so that verifying a token never imports a key.
 * - An unknown `kid` refetches at most once per `cooldown`, whatever the kid: a flood of junk
 *   tokens costs the IdP one request per window, and kids still unknown after it are refused
 *   at once until the window ends.
 * - When the endpoint is down or answers garbage, the keys we have keep verifying, even past
 *   `maxAge`; a token we cannot check for that reason is a 503, not `invalid_token`.
 * - Keys that leave the set are reported (`onKeysRemoved`) so that cached verdicts die with them.
 * - Each fetch is a `portcullis.idp.jwks_fetch` span (its HTTP call a client span below it) and an
 *   `idp.jwks.fetched` or `idp.jwks.failed` event, with its cause: the first use, an unknown `kid`, or age.
 */
import { KeyObject } from 'node:crypto';
import * as jose from 'jose';
import { IdpUnavailableError, InvalidTokenError, type PortcullisError } from '../errors.js';
import { type AsymmetricAlgorithm, keyShapeOf } from './algorithms.js';
import { refuse, shown } from './bearer-refusal.js';
import type { HttpSettings } from './http.js';
import { type IdpCall, idpError, publicUrl, unusableAnswerError } from './idp-error.js';
import type { Emit } from './observability/emitter.js';
import type { IdpEvent, JwksFetchCause } from './observability/events.js';
import { inSpan } from './observability/spans.js';
import { insecureAllowed } from './url-policy.js';

export interface JwksKey {
  readonly kid: string | undefined;
  readonly alg: string | undefined;
  readonly kty: string;
  readonly crv: string | undefined;
  readonly key: KeyObject;
  /** RFC 7638 thumbprint: the key's identity across refetches. */
  readonly id: string;
}

/** Largest JWKS document we read: a real one is a few KB. */
const MAX_JWKS_BYTES = 512 * 1024;

/** GET the JWK Set. Only sends; {@link processJwksResponse} validates. */
export function jwksRequest(uri: URL, http: HttpSettings): Promise<Response> {
  if (uri.protocol !== 'https:' && !insecureAllowed(uri, http.allowInsecureHttp)) {
    return Promise.reject(new TypeError('the JWKS URI must use https'));
  }
  return http.fetch(uri, {
    headers: { accept: 'application/jwk-set+json, application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(http.timeout),
  });
}

function importAlgorithm(jwk: jose.JWK): string | undefined {
  if (typeof jwk.alg === 'string') return jwk.alg;
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC') return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv ?? ''];
  return undefined;
}

/** Import one public signing key, or `undefined` for a key we must not or cannot use. */
async function importKey(value: unknown): Promise<JwksKey | undefined> {
  if (typeof value !== 'object' || value === null) return undefined;
  const jwk = value as jose.JWK;
  // Symmetric or private material has no business in a JWKS; never turn it into a verification key.
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') return undefined;
  if (jwk.d !== undefined) return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    return undefined;
  }
  const alg = importAlgorithm(jwk);
  if (alg === undefined) return undefined;
  try {
    const imported = await jose.importJWK(jwk, alg);
    const key = imported instanceof KeyObject ? imported : KeyObject.from(imported as CryptoKey);
    return {
      kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
      alg: jwk.alg,
      kty: jwk.kty,
      crv: jwk.crv,
      key,
      id: await jose.calculateJwkThumbprint(jwk),
    };
  } catch {
    return undefined;
  }
}

/** The JWKS fetch as error messages describe it; `source` names the option behind the URL. */
export function jwksCall(uri: URL | undefined, source?: string | undefined): IdpCall {
  return { step: 'JWKS fetch', endpoint: 'jwks', url: uri, source, code: 'ERR_IDP_UNAVAILABLE', status: 503 };
}

/**
 * Validate a JWKS response and import its usable signing keys. Every failure is a 503
 * {@link IdpUnavailableError}: whatever went wrong, tokens cannot be checked until the IdP answers.
 */
export async function processJwksResponse(
  response: Response,
  call: IdpCall = jwksCall(undefined),
): Promise<JwksKey[]> {
  const unusable = (problem?: string): IdpUnavailableError => {
    const err = unusableAnswerError(call, response, problem);
    return err instanceof IdpUnavailableError
      ? err
      : new IdpUnavailableError(err.message, { idpUrl: err.idpUrl, idpStatus: err.idpStatus });
  };
  if (response.status !== 200) throw unusable();
  const text = await response.text();
  if (text.length > MAX_JWKS_BYTES) throw unusable(`the JWK Set is larger than ${MAX_JWKS_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw unusable('the body is not JSON');
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw unusable('the body has no "keys" array (it is no JWK Set)');
  const imported = await Promise.all(keys.map(importKey));
  return imported.filter((k): k is JwksKey => k !== undefined);
}

function fits(jwk: JwksKey, kid: string | undefined, alg: AsymmetricAlgorithm): boolean {
  if (kid !== undefined && jwk.kid !== kid) return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  const shape = keyShapeOf(alg);
  return jwk.kty === shape.kty && (shape.crv === undefined || jwk.crv === shape.crv);
}

export interface JwksStoreOptions {
  /** The JWKS URI; a function so that it may come from discovery, lazily. */
  readonly uri: () => URL | Promise<URL>;
  /** Where the URI comes from, for error messages: `"jwksUri"`, or the discovery document. */
  readonly source?: string | undefined;
  readonly http: HttpSettings;
  /** Milliseconds between refetches caused by unknown kids. */
  readonly cooldown: number;
  /** Milliseconds after which keys are refreshed in the background (they keep serving meanwhile). */
  readonly maxAge: number;
  /** Milliseconds a failed first fetch is remembered before the next attempt. */
  readonly retryAfter?: number;
  readonly realm: string | undefined;
  /** Called with the ids of keys that left the set at a refetch. */
  readonly onKeysRemoved?: (ids: ReadonlySet<string>) => void;
  /** Told of every fetch, as `idp.jwks.fetched` or `idp.jwks.failed`. */
  readonly emit?: Emit<IdpEvent> | undefined;
  readonly now?: () => number;
}

export interface JwksStore {
  /** The keys that may have signed a token with `kid` and `alg`; synchronous when they are known. */
  select(kid: string | undefined, alg: AsymmetricAlgorithm): readonly JwksKey[] | Promise<readonly JwksKey[]>;
}

export function createJwksStore(options: JwksStoreOptions): JwksStore {
  const { http, cooldown, maxAge, realm, retryAfter = 2000, now = Date.now } = options;
  let keys: readonly JwksKey[] | undefined;
  let loadedAt = 0;
  let attemptedAt = Number.NEGATIVE_INFINITY;
  let failure: PortcullisError | undefined;
  let pending: Promise<readonly JwksKey[]> | undefined;

  /** Fetch and import the keys: one fetch at a time, in a span, told as an event. */
  async function fetchKeys(cause: JwksFetchCause): Promise<readonly JwksKey[]> {
    const started = performance.now();
    let uri: URL | undefined;
    const attributes = { 'portcullis.jwks.cause': cause };
    try {
      return await inSpan('portcullis.idp.jwks_fetch', attributes, async (span) => {
        try {
          uri = await options.uri();
          // One retry for a GET that failed on the wire: a keep-alive socket the IdP closed meanwhile.
          const response = await jwksRequest(uri, http).catch(() => jwksRequest(uri!, http));
          const fresh = await processJwksResponse(response, jwksCall(uri, options.source));
          span?.setAttribute('portcullis.jwks.keys', fresh.length);
          return fresh;
        } catch (err) {
          // Whatever went wrong (unreachable, 5xx, garbage), the token cannot be checked: a 503.
          const mapped = await idpError(err, jwksCall(uri, options.source));
          throw mapped instanceof IdpUnavailableError
            ? mapped
            : new IdpUnavailableError(mapped.message, { cause: mapped, idpUrl: mapped.idpUrl });
        }
      }).then((fresh) => {
        const url = publicUrl(uri) ?? '';
        const durationMs = performance.now() - started;
        options.emit?.({ type: 'idp.jwks.fetched', url, cause, keys: fresh.length, durationMs });
        return fresh;
      });
    } catch (err) {
      const code = (err as PortcullisError).code;
      const url = publicUrl(uri) ?? '';
      options.emit?.({ type: 'idp.jwks.failed', url, code, durationMs: performance.now() - started });
      throw err;
    }
  }

  function refresh(cause: JwksFetchCause): Promise<readonly JwksKey[]> {
    attemptedAt = now();
    pending ??= fetchKeys(cause)
      .then((fresh) => {
        const previous = keys;
        keys = fresh;
        loadedAt = now();
        failure = undefined;
        if (previous !== undefined && options.onKeysRemoved !== undefined) {
          const current = new Set(fresh.map((k) => k.id));
          const removed = new Set(previous.filter((k) => !current.has(k.id)).map((k) => k.id));
          if (removed.size > 0) options.onKeysRemoved(removed);
        }
        return fresh;
      })
      .catch((err: unknown) => {
        failure = err as IdpUnavailableError;
        throw failure;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  // Candidates per (kid, alg) for the current key set, so that the hot path allocates nothing.
  let matches = new Map<string, readonly JwksKey[]>();
  let matchesFor: readonly JwksKey[] | undefined;

  function match(
    set: readonly JwksKey[],
    kid: string | undefined,
    alg: AsymmetricAlgorithm,
  ): readonly JwksKey[] {
    if (matchesFor !== set) {
      matches = new Map();
      matchesFor = set;
    }
    const key = `${alg} ${kid ?? ''}`;
    let found = matches.get(key);
    if (found === undefined) {
      found = set.filter((k) => fits(k, kid, alg));
      // Only remember kids that exist: junk kids must not grow this map.
      if (found.length > 0) matches.set(key, found);
    }
    return found;
  }

  /** The operator learns which kid the token named and which the JWKS holds (public key ids). */
  function noKey(kid: string | undefined, alg: AsymmetricAlgorithm): InvalidTokenError {
    const err = new InvalidTokenError('no key in the JWKS matches the token\'s "kid" and "alg"', { realm });
    const known = (keys ?? []).map((k) => k.kid ?? '(no kid)');
    return refuse(err, { reason: 'kid', received: shown(kid), expected: shown(known), alg });
  }

  return {
    select(kid, alg) {
      const t = now();
      if (keys === undefined) {
        if (pending !== undefined) return pending.then((set) => orFail(match(set, kid, alg), kid, alg));
        if (failure !== undefined && t - attemptedAt < retryAfter) throw failure;
        return refresh('initial').then((set) => orFail(match(set, kid, alg), kid, alg));
      }
      if (t - loadedAt > maxAge && pending === undefined) refresh('expired').catch(() => undefined);
      const found = match(keys, kid, alg);
      if (found.length > 0) return found;
      if (pending !== undefined) return pending.then((set) => orFail(match(set, kid, alg), kid, alg));
      if (t - attemptedAt < cooldown) {
        // Within the window a kid we do not know stays unknown; we could not check it if the
        // last attempt to learn new keys failed.
        if (failure !== undefined) throw failure;
        throw noKey(kid, alg);
      }
      return refresh('unknown_kid').then((set) => orFail(match(set, kid, alg), kid, alg));
    },
  };

  function orFail(
    found: readonly JwksKey[],
    kid: string | undefined,
    alg: AsymmetricAlgorithm,
  ): readonly JwksKey[] {
    if (found.length === 0) throw noKey(kid, alg);
    return found;
  }
}
