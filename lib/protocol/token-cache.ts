/**
 * The verified-token cache: verdicts keyed by the SHA-256 of the whole token, so that a client
 * sending the same token on every request pays for the signature once. A hit is the hash, one `Map`
 * lookup, one number compare and a counter: nothing else is checked again, nothing is allocated.
 *
 * - The key is the hash of the entire compact token, never a claim: two tokens that differ in any
 *   byte (a tampered signature included) never share an entry.
 * - `expiresAt` is the first moment the verdict could change: the caller computes it from `exp`,
 *   `maxTokenAge` and `cacheMaxAge` (`nbf` and `iat` cannot turn a yes into a no as time goes on). A dead
 *   entry never answers, and is dropped when met.
 * - Entries remember which key verified them; when that key leaves the JWKS they are dropped.
 *
 * Which tokens it keeps (TinyLFU admission, frequency-sketch.ts): while there is room, every verdict;
 * once full, a new token takes the place of an old one only if it was seen more often lately than the
 * old one. A scan of one-off tokens never pushes out the tokens that clients keep sending, and a cache
 * fed more distinct tokens than it holds, round-robin, keeps a stable set of them (nearly half, for
 * twice as many) instead of evicting every entry just before its next use, as an LRU would (0% hits).
 * The candidates for eviction are the oldest entries; one that is still wanted goes to the back, so the
 * next admission weighs another, and an expired one always makes room.
 */
import * as crypto from 'node:crypto';
import { FrequencySketch } from './frequency-sketch.js';

export interface TokenCache<V> {
  /** The live verdict of `hash` at `now` (epoch ms), counted as a sighting; `undefined` otherwise. */
  get(hash: string, now: number): V | undefined;
  /** Remember a verdict until `expiresAt` (epoch ms), if admitted. */
  set(hash: string, value: V, expiresAt: number, keyId: string | undefined, now: number): void;
  /** Drop every entry verified by one of `keyIds`. */
  dropKeys(keyIds: ReadonlySet<string>): void;
  readonly size: number;
}

interface Entry<V> {
  readonly value: V;
  /** Epoch milliseconds from which the entry is dead. */
  readonly expiresAt: number;
  /** The id of the key that verified it (`undefined` for HMAC or introspection). */
  readonly keyId: string | undefined;
}

// `crypto.hash` (Node 20.12+) is a one-shot digest, about twice as fast as createHash for a token.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'base64') => string }).hash;

/** The cache key of a token: its SHA-256, base64. */
export function tokenHash(token: string): string {
  return oneShot !== undefined
    ? oneShot('sha256', token, 'base64')
    : crypto.createHash('sha256').update(token).digest('base64');
}

/** Old entries weighed against a newcomer, at most, before it is turned away. */
const CANDIDATE_VICTIMS = 4;

export function createTokenCache<V>(maxEntries: number): TokenCache<V> {
  const entries = new Map<string, Entry<V>>();
  const sketch = new FrequencySketch(maxEntries);

  /** Free one place for a token seen `wanted` times lately, if an old entry is worth less. */
  function makeRoom(wanted: number, now: number): boolean {
    for (let i = 0; i < CANDIDATE_VICTIMS; i++) {
      const oldest = entries.keys().next().value as string;
      const entry = entries.get(oldest)!;
      entries.delete(oldest);
      if (entry.expiresAt <= now || sketch.frequency(oldest) < wanted) return true;
      entries.set(oldest, entry); // still wanted: to the back of the queue
    }
    return false;
  }

  return {
    get(hash, now) {
      const entry = entries.get(hash);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= now) {
        entries.delete(hash);
        return undefined;
      }
      sketch.increment(hash);
      return entry.value;
    },
    set(hash, value, expiresAt, keyId, now) {
      if (maxEntries <= 0 || expiresAt <= now) return;
      sketch.increment(hash);
      const entry: Entry<V> = { value, expiresAt, keyId };
      if (entries.size < maxEntries || entries.has(hash) || makeRoom(sketch.frequency(hash), now)) {
        entries.set(hash, entry);
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
