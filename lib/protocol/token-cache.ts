/**
 * The verified-token cache: a bounded LRU of verdicts, keyed by the SHA-256 of the whole token,
 * so that a client sending the same token on every request pays for the signature once.
 *
 * - The key is the hash of the entire compact token, never a claim: two tokens that differ in any
 *   byte (a tampered signature included) never share an entry.
 * - An entry never outlives the token's `exp`, nor `maxAge` after it was stored; the caller still
 *   re-runs the time checks on a hit.
 * - Entries remember which key verified them; when that key leaves the JWKS they are dropped.
 * - A `Map` keeps insertion order, which makes it an LRU: a hit re-inserts, eviction takes the first.
 * - Once full, a new entry is admitted only now and then (1 in ADMIT_ONE_IN), unless the oldest entry
 *   is dead anyway. A plain LRU fed more distinct tokens than it holds, round-robin, evicts every
 *   entry just before it would hit (0% hits); with throttled admission the cache settles on a stable
 *   share of them and keeps serving that share, so there is no cliff past the cache's size.
 */
import * as crypto from 'node:crypto';

export interface CacheEntry<V> {
  readonly value: V;
  /** Epoch milliseconds after which the entry is dead. */
  readonly expiresAt: number;
  /** The id of the key that verified it (`undefined` for HMAC or introspection). */
  readonly keyId: string | undefined;
}

export interface TokenCache<V> {
  get(hash: string, now: number): V | undefined;
  set(hash: string, value: V, expiresAt: number, keyId: string | undefined): void;
  /** Drop every entry verified by one of `keyIds`. */
  dropKeys(keyIds: ReadonlySet<string>): void;
  readonly size: number;
}

// `crypto.hash` (Node 20.12+) is a one-shot digest, about twice as fast as createHash for a token.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'base64') => string }).hash;

/** The cache key of a token: its SHA-256, base64. */
export function tokenHash(token: string): string {
  return oneShot !== undefined
    ? oneShot('sha256', token, 'base64')
    : crypto.createHash('sha256').update(token).digest('base64');
}

/** When full, one new entry in this many is admitted (evicting the least recently used). */
const ADMIT_ONE_IN = 16;

export function createTokenCache<V>(maxEntries: number, random: () => number = Math.random): TokenCache<V> {
  const entries = new Map<string, CacheEntry<V>>();
  return {
    get(hash, now) {
      const entry = entries.get(hash);
      if (entry === undefined) return undefined;
      entries.delete(hash);
      if (entry.expiresAt <= now) return undefined;
      entries.set(hash, entry);
      return entry.value;
    },
    set(hash, value, expiresAt, keyId) {
      if (maxEntries <= 0) return;
      if (entries.size >= maxEntries && !entries.has(hash)) {
        const oldest = entries.values().next().value as CacheEntry<V>;
        if (oldest.expiresAt > Date.now() && random() * ADMIT_ONE_IN >= 1) return;
      }
      entries.delete(hash);
      entries.set(hash, { value, expiresAt, keyId });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value as string;
        entries.delete(oldest);
      }
    },
    dropKeys(keyIds) {
      for (const [hash, entry] of entries) {
        if (entry.keyId !== undefined && keyIds.has(entry.keyId)) entries.delete(hash);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
