/**
 * The agent's view of its TokenCache: every call is bounded by a timeout, and a failed or slow
 * cache falls back to an in-process one, logging once when it breaks and once when it recovers.
 * A call never fails because the cache failed; in the worst case each process fetches its own token.
 */
import type { Logger } from '../protocol/logger.js';
import type { EmitEvent } from './events.js';
import { memoryTokenCache } from './memory-cache.js';
import { type CachedToken, isCachedToken, type TokenCache } from './token-cache.js';

export type Release = () => Promise<void>;

export interface GuardedCache {
  get(key: string): Promise<CachedToken | undefined>;
  set(key: string, value: CachedToken, ttlSeconds: number): Promise<void>;
  /** Delete `key`, but only while it still holds `accessToken` (when given). */
  delete(key: string, accessToken?: string): Promise<void>;
  /** `undefined` when another holder has the lock; a no-op release when locking is unavailable. */
  lock(key: string, ttlMs: number): Promise<Release | undefined>;
}

interface GuardOptions {
  readonly timeout: number;
  readonly logger: Logger;
  readonly emit: EmitEvent;
  readonly key: string;
}

/** After a failure the shared cache is left alone this long, so that a dead cache costs no timeouts. */
const BYPASS_MS = 1000;
const noRelease: Release = async () => undefined;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function guardCache(shared: TokenCache, options: GuardOptions): GuardedCache {
  const fallback = memoryTokenCache();
  let degraded = false;
  let bypassUntil = 0;

  async function attempt<T>(
    operation: string,
    run: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    if (Date.now() < bypassUntil) return { ok: false };
    try {
      const value = await withTimeout(run(), options.timeout);
      if (degraded) {
        degraded = false;
        options.logger.warn(
          { product: 'serviceAgent()', cache: 'recovered' },
          'serviceAgent(): the token cache answers again; sharing tokens again',
        );
      }
      return { ok: true, value };
    } catch (err) {
      bypassUntil = Date.now() + BYPASS_MS;
      // Only the error's message: a cache client's error never needs to carry the token to be useful.
      const message = err instanceof Error ? err.message : 'failed';
      options.emit({ type: 'agent.cache.failed', key: options.key, operation, message });
      if (!degraded) {
        degraded = true;
        options.logger.warn(
          { product: 'serviceAgent()', cache: 'failed', operation, reason: message },
          `serviceAgent(): the token cache failed on ${operation} (${message}); using the in-process cache until it recovers, so each process may fetch its own token meanwhile`,
        );
      }
      return { ok: false };
    }
  }

  return {
    async get(key) {
      const result = await attempt('get', () => shared.get(key));
      if (!result.ok) return fallback.get(key);
      return isCachedToken(result.value) ? result.value : undefined;
    },
    async set(key, value, ttlSeconds) {
      await fallback.set(key, value, ttlSeconds);
      await attempt('set', () => shared.set(key, value, ttlSeconds));
    },
    async delete(key, accessToken) {
      await fallback.delete(key);
      if (accessToken === undefined) {
        await attempt('delete', () => shared.delete(key));
        return;
      }
      // Compare first: another process may already have stored a new token under the key.
      const current = await attempt('get', () => shared.get(key));
      if (current.ok && isCachedToken(current.value) && current.value.access_token === accessToken) {
        await attempt('delete', () => shared.delete(key));
      }
    },
    async lock(key, ttlMs) {
      if (shared.lock === undefined) return noRelease;
      const result = await attempt('lock', () => shared.lock!(key, ttlMs));
      if (!result.ok) return noRelease;
      const release = result.value;
      if (release === undefined) return undefined;
      return async () => {
        await attempt('unlock', release);
      };
    },
  };
}
