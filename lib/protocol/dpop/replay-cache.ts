/**
 * The proofs already seen (RFC 9449 §11.1): a bounded map from a hash of `jti` and the key's
 * thumbprint to the moment the proof stops being acceptable anyway (its `iat` plus the window).
 * Past that moment the entry is useless, so entries are swept from the oldest on every admission.
 *
 * Bounded: when more live proofs arrive within one window than `maxEntries`, the oldest entry is
 * evicted, and that proof could be replayed for what remains of its window. Size the cache for
 * the request rate times the window (the default, 100,000, covers ~1,400 requests/s over 70 s).
 * Per process: on a fleet, a proof replayed to another process is not caught by this cache; give
 * the fleet a shared store (`dpop.replayStore: redisDpopReplayStore(client)`).
 */
/**
 * Where seen proofs are kept: this process's memory by default, or a store a fleet shares
 * (`redisDpopReplayStore`), so that a proof replayed to another process is caught too.
 */
export interface DpopReplayStore {
  /**
   * Remember `key` until `expiresAt` (epoch ms) and answer true, or answer false when it is already
   * remembered (a replay). Must not reject: a store that cannot answer decides for itself.
   */
  admit(key: string, expiresAt: number, now: number): boolean | Promise<boolean>;
}

/** The in-process store. */
export interface DpopReplayCache extends DpopReplayStore {
  admit(key: string, expiresAt: number, now: number): boolean;
  readonly size: number;
}

export function createDpopReplayCache(maxEntries: number): DpopReplayCache {
  const seen = new Map<string, number>();
  return {
    admit(key, expiresAt, now) {
      const known = seen.get(key);
      if (known !== undefined && known > now) return false;
      // Sweep from the head: entries are inserted in roughly increasing expiry order.
      for (const [oldKey, oldExpiry] of seen) {
        if (oldExpiry > now && seen.size < maxEntries) break;
        seen.delete(oldKey);
      }
      seen.delete(key);
      seen.set(key, expiresAt);
      return true;
    },
    get size() {
      return seen.size;
    },
  };
}
