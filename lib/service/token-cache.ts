/**
 * The TokenCache contract: the one thing to implement to keep client-credentials tokens somewhere
 * else (express-session's Store, reduced to what tokens need).
 *
 * Required:
 * - `get(key)` resolves the entry stored under `key`, or `undefined` when there is none or it expired.
 * - `set(key, value, ttlSeconds)` stores `value`; the entry may be dropped after `ttlSeconds`.
 * - `delete(key)` removes the entry; deleting a missing key is not an error.
 *
 * Optional, for fleets:
 * - `lock(key, ttlMs)` takes a short exclusive lock and resolves a `release` function, or
 *   `undefined` when another holder has it. The agent that gets the lock fetches the token; the
 *   others poll `get` for its result and fetch themselves only after `ttlMs`.
 *
 * Every method may reject or be slow: the agent bounds each call with a timeout and then falls back
 * to its in-process cache, so a call never fails because the cache failed.
 * Entries hold a bearer token: a shared cache must be as private as the client secret.
 */
import { createHash } from 'node:crypto';

/** What is cached: the token and its timing, epoch milliseconds. */
export interface CachedToken {
  readonly access_token: string;
  readonly token_type: string;
  /** When the token request was sent: the lifetime is counted from here (conservative). */
  readonly issued_at: number;
  /** `issued_at` + `expires_in`. */
  readonly expires_at: number;
  readonly scope?: string;
}

export interface TokenCache {
  get(key: string): Promise<CachedToken | undefined>;
  set(key: string, value: CachedToken, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  lock?(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
}

/**
 * The cache key: a hash of everything that makes two tokens interchangeable (where they come from,
 * for whom, and for what), so that agents with the same settings share and others never collide.
 * Hashed, so that keys name no client or audience in a shared store.
 */
export function tokenCacheKey(parts: {
  endpoint: string;
  clientID: string;
  params: ReadonlyArray<readonly [string, string]>;
  /** The DPoP key's JWK thumbprint: bound tokens are shared only by processes holding that key. */
  dpopJkt?: string | undefined;
  /** The TLS client certificate's `x5t#S256` (RFC 8705): the same, for certificate-bound tokens. */
  x5t?: string | undefined;
}): string {
  const base: unknown[] = [parts.endpoint, parts.clientID, parts.params];
  // Each left out when unset, so that keys (and fleets sharing them) stay as they were.
  if (parts.dpopJkt !== undefined) base.push({ dpop: parts.dpopJkt });
  if (parts.x5t !== undefined) base.push({ x5t: parts.x5t });
  const material = JSON.stringify(base);
  return createHash('sha256').update(material).digest('base64url').slice(0, 32);
}

/** Runtime check of a value read back from a shared store (it may be stale, foreign or corrupt). */
export function isCachedToken(value: unknown): value is CachedToken {
  const v = value as Partial<CachedToken> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.access_token === 'string' &&
    v.access_token !== '' &&
    typeof v.token_type === 'string' &&
    typeof v.issued_at === 'number' &&
    typeof v.expires_at === 'number' &&
    v.expires_at >= v.issued_at
  );
}
