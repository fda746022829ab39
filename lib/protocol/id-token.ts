/**
 * The two ID token checks oauth4webapi leaves to the caller for token-endpoint answers
 * (OpenID Connect Core §3.1.3.7 #6 and §3.1.3.8): the signature against the IdP's JWKS, and
 * `at_hash`. The claims (`iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, `auth_time`) are checked by
 * oauth4webapi's certified `processAuthorizationCodeResponse`.
 */
import { createHash } from 'node:crypto';
import * as jose from 'jose';
import { IdpUnavailableError, PortcullisError } from '../errors.js';
import { ASYMMETRIC_ALGORITHMS } from './algorithms.js';
import { type HttpSettings, isNetworkError, safeCause } from './http.js';
import { idpError, publicUrl, unusableAnswerError } from './idp-error.js';
import { jwksCall } from './jwks.js';
import type { Emit } from './observability/emitter.js';
import type { IdpEvent, JwksFetchCause } from './observability/events.js';
import { inSpan } from './observability/spans.js';
import { joseRefusal, type SigninRefusal, withRefusal } from './oidc-refusal.js';

/** The algorithms to accept: the configured one, else the IdP's advertised asymmetric ones. */
export function idTokenAlgorithms(
  configured: string | undefined,
  advertised: readonly string[] | undefined,
): string[] {
  if (configured !== undefined) return [configured];
  // Asymmetric only, never `none` or HMAC, whatever the IdP advertises.
  const algs = (advertised ?? ['RS256']).filter((alg) =>
    (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg),
  );
  return algs.length > 0 ? algs : ['RS256'];
}

export type KeySet = ReturnType<typeof jose.createRemoteJWKSet>;

/**
 * Each key set's URI and the JWKS endpoint's last answer: jose's errors ("Expected 200 OK …") carry
 * neither, and an operator needs both.
 */
interface LastAnswer {
  readonly uri: URL;
  response: Response | undefined;
}
const lastAnswers = new WeakMap<KeySet, LastAnswer>();

/** How long jose keeps the ID token keys before fetching them again. */
const KEYS_MAX_AGE_MS = 10 * 60_000;

/**
 * The IdP's keys for ID tokens. No cooldown: an ID token comes straight from the token endpoint,
 * so an unknown `kid` means the IdP rotated its keys and an immediate refetch is right.
 */
export function createIdTokenKeySet(jwksUri: URL, http: HttpSettings, emit?: Emit<IdpEvent>): KeySet {
  const seen: LastAnswer = { uri: jwksUri, response: undefined };
  const set = jose.createRemoteJWKSet(jwksUri, {
    cooldownDuration: 0,
    cacheMaxAge: KEYS_MAX_AGE_MS,
    timeoutDuration: http.timeout,
    [jose.customFetch]: watchedFetch(seen, http, emit),
  });
  lastAnswers.set(set, seen);
  return set;
}

/**
 * jose fetches the keys; each fetch is told as `bearer()`'s are (jwks.ts): a `portcullis.idp.jwks_fetch`
 * span with its HTTP call below it, and an `idp.jwks.fetched` or `idp.jwks.failed` event (hence the
 * `portcullis.idp.jwks.fetches` metric). jose does not say why it fetches: the first fetch is `initial`,
 * one after `KEYS_MAX_AGE_MS` is `expired`, any other is for a `kid` it did not know.
 */
function watchedFetch(seen: LastAnswer, http: HttpSettings, emit: Emit<IdpEvent> | undefined) {
  const url = publicUrl(seen.uri) ?? '';
  let fetchedAt: number | undefined;
  return async (target: string, init: unknown): Promise<Response> => {
    const age = fetchedAt === undefined ? undefined : Date.now() - fetchedAt;
    const cause: JwksFetchCause =
      age === undefined ? 'initial' : age >= KEYS_MAX_AGE_MS ? 'expired' : 'unknown_kid';
    const started = performance.now();
    const fetched = inSpan('portcullis.idp.jwks_fetch', { 'portcullis.jwks.cause': cause }, async (span) => {
      seen.response = await http.fetch(target, init as RequestInit);
      const keys = await keyCount(seen.response);
      if (keys === undefined) throw new UnusableKeySet(seen.response); // the span fails; jose says why
      span?.setAttribute('portcullis.jwks.keys', keys);
      fetchedAt = Date.now();
      emit?.({ type: 'idp.jwks.fetched', url, cause, keys, durationMs: performance.now() - started });
      return seen.response;
    });
    return fetched.catch((err: unknown) => {
      const durationMs = performance.now() - started;
      emit?.({ type: 'idp.jwks.failed', url, code: 'ERR_IDP_UNAVAILABLE', durationMs });
      if (err instanceof UnusableKeySet) return err.response;
      throw err;
    });
  };
}

/** A JWKS answer that holds no keys (an error status, or no JWK Set): jose gets it and names the problem. */
class UnusableKeySet extends Error {
  readonly code = 'ERR_IDP_UNAVAILABLE';
  constructor(readonly response: Response) {
    super('the JWKS answer holds no JWK Set');
  }
}

/** How many keys a JWKS answer holds, read from a copy (jose reads the answer itself); `undefined` for no JWK Set. */
async function keyCount(response: Response): Promise<number | undefined> {
  if (!response.ok) return undefined;
  try {
    const body: unknown = await response.clone().json();
    const keys = typeof body === 'object' && body !== null ? (body as { keys?: unknown }).keys : undefined;
    return Array.isArray(keys) ? keys.length : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The key set could not be fetched: unreachable, timed out, or its answer was no JWK Set. A 503
 * naming the JWKS URL and its answer, as for every other call to the IdP; `undefined` for the
 * token's own faults.
 */
async function keySetError(err: unknown, keys: KeySet): Promise<PortcullisError | undefined> {
  const seen = lastAnswers.get(keys);
  const call = jwksCall(seen?.uri);
  if (err instanceof jose.errors.JWKSTimeout) {
    // jose names its timeout JWKSTimeout; told like any other timeout.
    return idpError(Object.assign(new Error(err.message), { name: 'TimeoutError' }), call);
  }
  if (isNetworkError(err)) return idpError(err, call);
  const fetchFailed =
    err instanceof jose.errors.JWKSInvalid ||
    (err instanceof jose.errors.JOSEError && /JSON Web Key Set HTTP response/.test(err.message));
  if (!fetchFailed || seen?.response === undefined) return undefined;
  const problem = seen.response.status === 200 ? 'the body is no JWK Set' : undefined;
  const mapped = unusableAnswerError(call, seen.response, problem);
  return mapped instanceof IdpUnavailableError
    ? mapped
    : new IdpUnavailableError(mapped.message, { idpUrl: mapped.idpUrl, idpStatus: mapped.idpStatus });
}

function invalid(message: string, refusal: SigninRefusal, cause?: unknown): PortcullisError {
  const error = new PortcullisError('ERR_ID_TOKEN_INVALID', message, {
    status: 400,
    cause: safeCause(cause),
  });
  return withRefusal(error, refusal);
}

/** Verify the ID token's signature with the IdP's keys and the allowed algorithms. */
export async function verifyIdTokenSignature(
  idToken: string,
  keys: KeySet,
  {
    algorithms,
    issuer,
    audience,
    clockTolerance,
  }: { algorithms: string[]; issuer: string; audience: string; clockTolerance: number },
): Promise<jose.JWTPayload> {
  try {
    const { payload } = await jose.jwtVerify(idToken, keys, { algorithms, issuer, audience, clockTolerance });
    return payload;
  } catch (err) {
    const unavailable = await keySetError(err, keys);
    if (unavailable !== undefined) throw unavailable;
    const refusal = joseRefusal(err, idToken, { issuer, audience, algorithms });
    if (err instanceof jose.errors.JOSEAlgNotAllowed)
      throw invalid('ID token: its "alg" is not allowed', refusal, err);
    if (err instanceof jose.errors.JWKSNoMatchingKey)
      throw invalid("ID token: no key in the IdP's JWKS matches it", refusal, err);
    if (err instanceof jose.errors.JWSSignatureVerificationFailed)
      throw invalid('ID token: signature verification failed', refusal, err);
    if (err instanceof jose.errors.JOSEError) throw invalid(`ID token: ${err.message}`, refusal, err);
    throw invalid('ID token: it could not be verified', refusal, err);
  }
}

const HASH_BY_ALG: Record<string, string> = {
  RS256: 'sha256',
  PS256: 'sha256',
  ES256: 'sha256',
  RS384: 'sha384',
  PS384: 'sha384',
  ES384: 'sha384',
  RS512: 'sha512',
  PS512: 'sha512',
  ES512: 'sha512',
  EdDSA: 'sha512',
  Ed25519: 'sha512',
};

/** OpenID Connect Core §3.1.3.8: when `at_hash` is present it must match the access token. */
export function checkAtHash(
  idToken: string,
  claims: Record<string, unknown>,
  accessToken: string | undefined,
): void {
  const atHash = claims['at_hash'];
  if (atHash === undefined) return;
  const refused = { reason: 'at_hash' } as const;
  if (typeof atHash !== 'string' || accessToken === undefined)
    throw invalid('ID token: "at_hash" is invalid', refused);
  const { alg } = jose.decodeProtectedHeader(idToken);
  const hash = alg === undefined ? undefined : HASH_BY_ALG[alg];
  if (hash === undefined) throw invalid('ID token: "at_hash" cannot be checked for its "alg"', refused);
  const digest = createHash(hash).update(accessToken).digest();
  const expected = digest.subarray(0, digest.length / 2).toString('base64url');
  if (expected !== atHash) throw invalid('ID token: "at_hash" does not match the access token', refused);
}
