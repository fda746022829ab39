/**
 * The verified-token cache: verdicts keyed by the whole token, so that a client sending the same token
 * on every request pays for the signature once. A hit is one `Map` lookup on the token's last 32
 * characters, one string comparison, one number compare and a counter: nothing else is checked again,
 * nothing is hashed, and the slice of those 32 characters is all that is allocated.
 *
 * - A hit needs the entire token, byte for byte: the lookup finds the entry by the token's tail (a
 *   JWT's signature, an opaque token's random part) and the entry then compares the whole token. Two
 *   tokens that differ in any byte (a tampered payload under the same signature included) never
 *   share a verdict. Why not a SHA-256 of the token, as until 2026-11-30: it cost a cache hit 1 to 3.5 µs
 *   (bench/bearer), most of what a hit cost, and V8's own hash of a whole token is no cheaper.
 * - Reaching the comparison (which, unlike a hash's, stops at the first byte that differs) needs the
 *   last 32 characters of a live token already: 192 bits of its signature. No client can insert
 *   anything: only verdicts of tokens that verified are stored (`set`), so the `Map`'s buckets hold
 *   nothing an attacker chose.
 * - Tokens that share their tail (no signed token does; an IdP's opaque tokens might) share a place:
 *   the one seen more often lately keeps it. Slower, never wrong.
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
 * next admission weighs another, and an expired one always makes room. The sketch counts each token
 * by its SHA-256 (`tokenHash`, computed once, when the verdict is stored): every JWT starts alike, and
 * a count must not depend on how random a token's characters are.
 */
import * as crypto from 'node:crypto';
import { FrequencySketch } from './frequency-sketch.js';

export interface TokenCache<V> {
  /** The live verdict of `token` at `now` (epoch ms), counted as a sighting; `undefined` otherwise. */
  get(token: string, now: number): V | undefined;
  /** Remember a verdict until `expiresAt` (epoch ms), if admitted; `hash` is `tokenHash(token)`. */
  set(token: string, hash: string, value: V, expiresAt: number, keyId: string | undefined, now: number): void;
  /** Drop every entry verified by one of `keyIds`. */
  dropKeys(keyIds: ReadonlySet<string>): void;
  readonly size: number;
}

interface Entry<V> {
  /** The whole token: a hit must be this very string. */
  readonly token: string;
  /** Its place in the frequency sketch. */
  readonly counted: number;
  readonly value: V;
  /** Epoch milliseconds from which the entry is dead. */
  readonly expiresAt: number;
  /** The id of the key that verified it (`undefined` for HMAC or introspection). */
  readonly keyId: string | undefined;
}

// `crypto.hash` (Node 20.12+) is a one-shot digest, about twice as fast as createHash for a token.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'base64') => string }).hash;

/** A token's SHA-256, base64: what the sketch counts a verdict by, and the key of caches junk reaches (introspection's). */
export function tokenHash(token: string): string {
  return oneShot !== undefined
    ? oneShot('sha256', token, 'base64')
    : crypto.createHash('sha256').update(token).digest('base64');
}

/** How much of a token's end finds its entry: 32 base64url characters are 192 random bits of a signature. */
const TAIL = 32;
const tailOf = (token: string): string => (token.length > TAIL ? token.slice(-TAIL) : token);

/** Old entries weighed against a newcomer, at most, before it is turned away. */
const CANDIDATE_VICTIMS = 4;

export function createTokenCache<V>(maxEntries: number): TokenCache<V> {
  /** By token tail. */
  const entries = new Map<string, Entry<V>>();
  const sketch = new FrequencySketch(maxEntries);

  /** Free one place for a token seen `wanted` times lately, if an old entry is worth less. */
  function makeRoom(wanted: number, now: number): boolean {
    for (let i = 0; i < CANDIDATE_VICTIMS; i++) {
      const oldest = entries.keys().next().value as string;
      const entry = entries.get(oldest)!;
      entries.delete(oldest);
      if (worthLess(entry, wanted, now)) return true;
      entries.set(oldest, entry); // still wanted: to the back of the queue
    }
    return false;
  }

  function worthLess(entry: Entry<V>, wanted: number, now: number): boolean {
    return entry.expiresAt <= now || sketch.frequency(entry.counted) < wanted;
  }

  return {
    get(token, now) {
      const tail = tailOf(token);
      const entry = entries.get(tail);
      if (entry === undefined || entry.token !== token) return undefined;
      if (entry.expiresAt <= now) {
        entries.delete(tail);
        return undefined;
      }
      sketch.increment(entry.counted);
      return entry.value;
    },
    set(token, hash, value, expiresAt, keyId, now) {
      if (maxEntries <= 0 || expiresAt <= now) return;
      const counted = FrequencySketch.fingerprint(hash);
      sketch.increment(counted);
      const entry: Entry<V> = { token, counted, value, expiresAt, keyId };
      const tail = tailOf(token);
      const there = entries.get(tail);
      const wanted = sketch.frequency(counted);
      if (there !== undefined) {
        // The same token again, or another with the same tail: the one wanted more keeps the place.
        if (there.token === token || worthLess(there, wanted, now)) entries.set(tail, entry);
      } else if (entries.size < maxEntries || makeRoom(wanted, now)) {
        entries.set(tail, entry);
      }
    },
    dropKeys(keyIds) {
      for (const [tail, entry] of entries) {
        if (entry.keyId !== undefined && keyIds.has(entry.keyId)) entries.delete(tail);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
