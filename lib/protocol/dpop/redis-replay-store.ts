/**
 * DPoP replay detection for a fleet (RFC 9449 §11.1): the proofs seen are kept in Redis with
 * `SET key 1 NX PX ttl`, so that a proof used at one process is refused at every other until it
 * would have expired anyway. Keys are hashes of `jti` and the key thumbprint, never the proof.
 *
 * Each process also keeps its own memory of proofs in front of Redis: a replay to the same process
 * costs no round trip, and when Redis is down, slow (past `timeoutMs`) or not connected, that memory
 * decides alone. During an outage a proof replayed to *another* process within its window (60 s by
 * default) is then accepted; requests keep being served. Fail-open on purpose, and logged.
 */
import type { RedisClientLike } from '../redis-client.js';
import { createDpopReplayCache, type DpopReplayStore } from './replay-cache.js';

export interface RedisDpopReplayStoreOptions {
  /** Prepended to every key. @default 'portcullis:dpop-jti:' */
  prefix?: string;
  /** Milliseconds a Redis answer may take before the process's own memory decides. @default 250 */
  timeoutMs?: number;
  /** Proofs this process remembers itself. @default 100000 */
  localMaxEntries?: number;
  /** Told when Redis could not answer (never with a key or proof). @default console.warn, once a minute */
  onError?: (message: string) => void;
}

export function redisDpopReplayStore(
  client: RedisClientLike,
  options: RedisDpopReplayStoreOptions = {},
): DpopReplayStore {
  if (typeof client !== 'object' || client === null || typeof client.set !== 'function') {
    throw new TypeError(
      'redisDpopReplayStore() needs a connected Redis client (createClient() from "redis")',
    );
  }
  const prefix = options.prefix ?? 'portcullis:dpop-jti:';
  const timeoutMs = options.timeoutMs ?? 250;
  const local = createDpopReplayCache(options.localMaxEntries ?? 100_000);
  let lastWarning = 0;
  const warn =
    options.onError ??
    ((message: string) => {
      if (Date.now() - lastWarning < 60_000) return;
      lastWarning = Date.now();
      console.warn(`portcullis: ${message}`);
    });

  function shared(key: string, ttl: number): Promise<boolean> {
    if (client.isReady === false) {
      warn('DPoP replay store: Redis is not connected; this process checks replays alone');
      return Promise.resolve(true);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const answer = client.set(prefix + key, '1', {
      expiration: { type: 'PX', value: ttl },
      condition: 'NX',
    });
    return Promise.race([answer, timeout])
      .then((result) => {
        if (result === 'timeout') {
          warn(`DPoP replay store: Redis did not answer within ${timeoutMs} ms; this process checks alone`);
          return true;
        }
        return result !== null; // "OK" when the key is new, null when it was there: a replay
      })
      .catch(() => {
        warn('DPoP replay store: Redis failed; this process checks replays alone');
        return true;
      })
      .finally(() => clearTimeout(timer));
  }

  return {
    admit(key, expiresAt, now) {
      if (!local.admit(key, expiresAt, now)) return false;
      return shared(key, Math.max(1, Math.ceil(expiresAt - now)));
    },
  };
}
