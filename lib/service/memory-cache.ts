/**
 * The default TokenCache: a Map in this process. Per process only: every process of a fleet asks the
 * IdP for its own tokens. Use `redisTokenCache()` to share them.
 */
import type { CachedToken, TokenCache } from './token-cache.js';

/**
 * An in-process {@link TokenCache}. Entries expire lazily on read, so it holds no timer.
 * @example serviceAgent({ ..., cache: memoryTokenCache() })
 */
export function memoryTokenCache(): TokenCache {
  const entries = new Map<string, { value: CachedToken; until: number }>();
  return {
    async get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (Date.now() >= entry.until) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    async set(key, value, ttlSeconds) {
      entries.set(key, { value, until: Date.now() + ttlSeconds * 1000 });
    },
    async delete(key) {
      entries.delete(key);
    },
  };
}
