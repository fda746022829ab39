/**
 * The Redis commands portcullis uses, as the official `redis` client v5 spells them, for a
 * `createClient()`, `createCluster()` or `createSentinel()` client alike: typed by shape, so that
 * portcullis does not depend on the client. Each command names one key (a script, one key too), so
 * that a Redis Cluster can serve it from whichever shard holds that key. Shared by the agent's
 * token cache (and the refresh lock built on it) and bearer()'s DPoP replay store.
 */
export interface RedisClientLike {
  get(key: string): Promise<unknown>;
  set(
    key: string,
    value: string,
    options?: { expiration?: { type: 'EX' | 'PX'; value: number }; condition?: 'NX' },
  ): Promise<unknown>;
  del(key: string): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** node-redis: false while disconnected (commands would queue until it reconnects). */
  readonly isReady?: boolean;
}
