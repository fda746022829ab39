/**
 * A least-recently-used map with a hard bound, for what a request can make us remember: providers
 * returned by `resolveProvider` (each with its issuer's metadata and keys). A flood of distinct keys
 * evicts the oldest entries; it never grows the map past `maxEntries`.
 *
 * A `Map` keeps insertion order, which makes it an LRU: a hit re-inserts, eviction takes the first.
 */
export class BoundedLru<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #maxEntries: number;
  readonly #onEvict: ((key: K, value: V) => void) | undefined;

  /** `onEvict` hears of every entry pushed out by the bound (not of `delete()`). */
  constructor(maxEntries: number, onEvict?: (key: K, value: V) => void) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError('BoundedLru: maxEntries must be a positive integer');
    }
    this.#maxEntries = maxEntries;
    this.#onEvict = onEvict;
  }

  /** The value, made the most recently used. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** Store `value` as the most recently used, evicting the least recently used beyond the bound. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.#maxEntries) {
      const [oldestKey, oldestValue] = this.#entries.entries().next().value as [K, V];
      this.#entries.delete(oldestKey);
      this.#onEvict?.(oldestKey, oldestValue);
    }
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  /** Entries held now; never more than `maxEntries`. */
  get size(): number {
    return this.#entries.size;
  }

  get maxEntries(): number {
    return this.#maxEntries;
  }

  /** Every value, least recently used first; reading does not change the order. */
  values(): IterableIterator<V> {
    return this.#entries.values();
  }
}
