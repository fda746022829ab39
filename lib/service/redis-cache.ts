/**
 * A TokenCache on Redis, for fleets: processes that share it ask the IdP once per token lifetime in
 * total. It adds the optional `lock`: `SET NX PX` with a random owner, released only by its owner
 * (a compare-and-delete script), so a lock that outlived its holder cannot be freed by a stranger.
 *
 * Written for the official `redis` client v5 (`createClient()`), typed by shape so that portcullis
 * does not depend on it. Reads and writes are bounded by the agent's own timeout; a client that is
 * not ready fails at once rather than queueing, so a Redis outage costs calls nothing.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClientLike } from '../protocol/redis-client.js';
import { isCachedToken, type TokenCache } from './token-cache.js';

export type { RedisClientLike };

export interface RedisTokenCacheOptions {
  /** Prepended to every key. @default 'portcullis:token:' */
  prefix?: string;
}

const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

function ready(client: RedisClientLike): void {
  if (client.isReady === false) throw new Error('the Redis client is not connected');
}

/**
 * A {@link TokenCache} in Redis, shared by every process that uses the same client settings.
 * Tokens are stored as JSON under `prefix` + a hash of issuer, client, audience, resource and scope.
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
    throw new TypeError('redisTokenCache() expects a client from the "redis" package (createClient())');
  }
  const prefix = options.prefix ?? 'portcullis:token:';
  if (typeof prefix !== 'string') throw new TypeError('"prefix" must be a string');

  return {
    async get(key) {
      ready(client);
      const text = await client.get(prefix + key);
      if (typeof text !== 'string') return undefined;
      try {
        const value: unknown = JSON.parse(text);
        return isCachedToken(value) ? value : undefined;
      } catch {
        return undefined; // Not ours or corrupt: a miss, and the next set overwrites it.
      }
    },
    async set(key, value, ttlSeconds) {
      ready(client);
      await client.set(prefix + key, JSON.stringify(value), {
        expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttlSeconds)) },
      });
    },
    async delete(key) {
      ready(client);
      await client.del(prefix + key);
    },
    async lock(key, ttlMs) {
      ready(client);
      const lockKey = `${prefix}${key}:lock`;
      const owner = randomUUID();
      const taken = await client.set(lockKey, owner, {
        expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) },
        condition: 'NX',
      });
      if (taken !== 'OK') return undefined;
      return async () => {
        await client.eval(RELEASE, { keys: [lockKey], arguments: [owner] });
      };
    },
  };
}
