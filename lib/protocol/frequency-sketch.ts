/**
 * How often each key was seen lately, in a few bytes per cache entry: TinyLFU's frequency filter
 * (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", 2017).
 *
 * - A doorkeeper (a Bloom filter) takes each key's first sighting, so that one-off keys never reach
 *   the counters: a flood of them cannot make itself look frequent, nor make the sketch forget. It is
 *   cleared once it holds as many keys as it can tell apart well (1 in 30 false positives at most).
 * - Later sightings go to a count-min sketch: four rows of counters that saturate at 15, raised by
 *   conservative update (only those at the key's minimum), so that keys sharing a counter inflate each
 *   other little. Every `10 × width` of them, all counts are halved: what was popular an hour ago
 *   does not stay popular.
 *
 * Keys are counted by their fingerprint (`FrequencySketch.fingerprint`), which the caller keeps, so that
 * counting a sighting hashes nothing. The keys are SHA-256 hashes (base64) of tokens that verified: no
 * client can aim them at a counter, and a junk token is never counted. Other strings work too, if their
 * first 16 characters differ.
 */

const ROWS = 4;
const MAX_COUNT = 15;

/** FNV-1a over the first 16 characters: a hash's leading characters are random enough already. */
function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  const end = Math.min(key.length, 16);
  for (let i = 0; i < end; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A second, independent-enough hash from the first (murmur3's finaliser), odd so that rows differ. */
function remix(h: number): number {
  let x = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) | 1) >>> 0;
}

export class FrequencySketch {
  readonly #counts: Uint8Array;
  readonly #width: number;
  readonly #mask: number;
  readonly #sampleSize: number;
  #additions = 0;
  /** The doorkeeper: 8 bits per key it holds at most (`2 × width` keys), 3 of them set per key. */
  readonly #seen: Uint32Array;
  readonly #seenMask: number;
  #seenKeys = 0;

  /**
   * Sized for a cache of `capacity` entries: rows of `4 × capacity` counters (rounded up to a power of
   * two), and a doorkeeper that remembers `2 ×` as many keys, so that a token sent again after some
   * ten times the cache's size in one-off tokens is still recognised: 24 to 48 bytes per entry in all.
   * Narrower rows share counters between more tokens, which inflates the counts of rare ones; this
   * width keeps a cache of 1,000 within a few points of the best choice on skewed (Zipf) traffic, in
   * simulation (bench/bearer/cache-policy.ts).
   */
  constructor(capacity: number) {
    let width = 16;
    while (width < capacity * 4) width *= 2;
    this.#width = width;
    this.#mask = width - 1;
    this.#counts = new Uint8Array(width * ROWS);
    this.#sampleSize = 10 * width;
    this.#seen = new Uint32Array(width / 2); // `2 × width` bytes: 8 bits for each of `2 × width` keys
    this.#seenMask = width * 16 - 1;
  }

  /** Where `key` is counted: pass it to `increment` and `frequency`. */
  static fingerprint(key: string): number {
    return fnv1a(key);
  }

  /** Count one sighting of the key with this fingerprint. */
  increment(h1: number): void {
    const h2 = remix(h1);
    if (!this.#admitted(h1, h2)) return;
    const counts = this.#counts;
    const width = this.#width;
    const mask = this.#mask;
    const i0 = h1 & mask;
    const i1 = width + ((h1 + h2) & mask);
    const i2 = 2 * width + ((h1 + 2 * h2) & mask);
    const i3 = 3 * width + ((h1 + 3 * h2) & mask);
    const min = Math.min(counts[i0]!, counts[i1]!, counts[i2]!, counts[i3]!);
    if (min >= MAX_COUNT) return;
    if (counts[i0] === min) counts[i0] = min + 1;
    if (counts[i1] === min) counts[i1] = min + 1;
    if (counts[i2] === min) counts[i2] = min + 1;
    if (counts[i3] === min) counts[i3] = min + 1;
    if (++this.#additions >= this.#sampleSize) this.#age();
  }

  /** The sightings lately of the key with this fingerprint (an upper bound: others may share its counters). */
  frequency(h1: number): number {
    const h2 = remix(h1);
    const counts = this.#counts;
    const width = this.#width;
    const mask = this.#mask;
    return (
      (this.#hasSeen(h1, h2) ? 1 : 0) +
      Math.min(
        counts[h1 & mask]!,
        counts[width + ((h1 + h2) & mask)]!,
        counts[2 * width + ((h1 + 2 * h2) & mask)]!,
        counts[3 * width + ((h1 + 3 * h2) & mask)]!,
      )
    );
  }

  #hasSeen(h1: number, h2: number): boolean {
    for (let k = 0; k < 3; k++) {
      const bit = (h2 + k * h1) & this.#seenMask;
      if ((this.#seen[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** True when the doorkeeper had seen the key already (its counters may count it); else it has now. */
  #admitted(h1: number, h2: number): boolean {
    if (this.#hasSeen(h1, h2)) return true;
    if (++this.#seenKeys > 2 * this.#width) {
      this.#seen.fill(0);
      this.#seenKeys = 1;
    }
    for (let k = 0; k < 3; k++) {
      const bit = (h2 + k * h1) & this.#seenMask;
      this.#seen[bit >>> 5] = this.#seen[bit >>> 5]! | (1 << (bit & 31));
    }
    return false;
  }

  /** Halve every count: the recent past weighs as much as all that came before it. */
  #age(): void {
    const counts = this.#counts;
    for (let i = 0; i < counts.length; i++) counts[i] = counts[i]! >> 1;
    this.#additions = 0;
  }
}
