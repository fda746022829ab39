/**
 * The Redis commands portcullis uses, as the official `redis` client v5 (`createClient()`) spells
 * them: typed by shape, so that portcullis does not depend on the client. Shared by the agent's
 * token cache and bearer()'s DPoP replay store.
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
