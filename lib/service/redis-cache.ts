/**
 * A TokenCache on Redis, for fleets: processes that share it ask the IdP once per token lifetime in
 * total. It adds the optional `lock`: `SET NX PX` with a random owner, released only by its owner
 * (a compare-and-delete script on that one key), so a lock that outlived its holder cannot be freed
 * by a stranger. Every operation touches one key: a Redis Cluster serves it from any shard.
 *
 * Written for the official `redis` client v5 (`createClient()`, `createCluster()`,
 * `createSentinel()`), typed by shape so that portcullis does not depend on it. Every call is
 * bounded by `timeoutMs` (the agent's own, shorter, timeout comes first; the refresh lock of
 * `auth()` has only this one); a client that is not ready fails at once rather than queueing; a
 * failed or slow call makes a cluster client rediscover its slots, so that the next call finds the
 * replica that took over from a dead master.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClientLike } from '../protocol/redis-client.js';
import { redisCall } from '../protocol/redis-recovery.js';
import { isCachedToken, type TokenCache } from './token-cache.js';

export type { RedisClientLike };

export interface RedisTokenCacheOptions {
  /** Prepended to every key. @default 'portcullis:token:' */
  prefix?: string;
  /** Milliseconds one Redis call may take before it fails. @default 1000 */
  timeoutMs?: number;
}

const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

function ready(client: RedisClientLike): void {
  if (client.isReady === false) throw new Error('the Redis client is not connected');
}

/**
 * A {@link TokenCache} in Redis, shared by every process that uses the same client settings.
 * Tokens are stored as JSON under `prefix` + a hash of issuer, client, audience, resource and scope.
 * The client may be a `createClient()`, `createCluster()` or `createSentinel()` one.
 * > [!WARNING] The entries are bearer tokens: protect the Redis like the client secret (ACL, TLS).
 * @example
 * const redis = await createClient({ url: process.env.REDIS_URL }).on('error', log).connect();
 * const agent = serviceAgent({ ..., cache: redisTokenCache(redis) });
 */
export function redisTokenCache(client: RedisClientLike, options: RedisTokenCacheOptions = {}): TokenCache {
  if (
    typeof client?.get !== 'function' ||
    typeof client.set !== 'function' ||
    typeof client.eval !== 'function'
  ) {
    throw new TypeError(
      'redisTokenCache() expects a client from the "redis" package (createClient(), createCluster() or createSentinel())',
    );
  }
  const prefix = options.prefix ?? 'portcullis:token:';
  if (typeof prefix !== 'string') throw new TypeError('"prefix" must be a string');
  const timeoutMs = options.timeoutMs ?? 1000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
    throw new TypeError('"timeoutMs" must be a positive number');
  }
  const call = <T>(run: () => Promise<T>): Promise<T> => {
    ready(client);
    return redisCall(client, run, timeoutMs);
  };

  return {
    async get(key) {
      const text = await call(() => client.get(prefix + key));
      if (typeof text !== 'string') return undefined;
      try {
        const value: unknown = JSON.parse(text);
        return isCachedToken(value) ? value : undefined;
      } catch {
        return undefined; // Not ours or corrupt: a miss, and the next set overwrites it.
      }
    },
    async set(key, value, ttlSeconds) {
      await call(() =>
        client.set(prefix + key, JSON.stringify(value), {
          expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttlSeconds)) },
        }),
      );
    },
    async delete(key) {
      await call(() => client.del(prefix + key));
    },
    async lock(key, ttlMs) {
      const lockKey = `${prefix}${key}:lock`;
      const owner = randomUUID();
      const taken = await call(() =>
        client.set(lockKey, owner, {
          expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) },
          condition: 'NX',
        }),
      );
      if (taken !== 'OK') return undefined;
      return async () => {
        await call(() => client.eval(RELEASE, { keys: [lockKey], arguments: [owner] }));
      };
    },
  };
}
