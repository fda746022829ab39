/**
 * DPoP replay detection for a fleet (RFC 9449 §11.1): the proofs seen are kept in Redis with
 * `SET key owner NX PX ttl`, so that a proof used at one process is refused at every other until it
 * would have expired anyway. Keys are hashes of `jti` and the key thumbprint, never the proof; each
 * check touches one key, so a Redis Cluster serves it from any shard.
 *
 * Each process also keeps its own memory of proofs in front of Redis: a replay to the same process
 * costs no round trip. When Redis fails, a check does not give up at once:
 *
 * 1. Redis in trouble (an error, no answer within `timeoutMs`, not connected): try again every
 *    100 ms, a Redis Cluster rediscovering its slots, for up to `failOpenAfterMs` from the moment the
 *    trouble began. A failover that ends within that time costs these requests some latency and
 *    lets no replay through: the promoted replica knows every proof it had received.
 * 2. Trouble for longer (an outage, not a failover): the process checks replays alone, at once and
 *    until Redis answers again, and says so once (`onError`), and again, with a count, when Redis is
 *    back. A proof replayed to *another* process within its window is accepted meanwhile: requests
 *    keep being served. Fail-open on purpose, bounded in latency, and logged.
 *
 * Because a try may land after its answer timed out, each write carries a random owner: a retry
 * that finds the key set by its own earlier try is not mistaken for a replay.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClientLike } from '../redis-client.js';
import { isTransientRedisError, redisCall } from '../redis-recovery.js';
import { createDpopReplayCache, type DpopReplayStore } from './replay-cache.js';

export interface RedisDpopReplayStoreOptions {
  /** Prepended to every key. @default 'portcullis:dpop-jti:' */
  prefix?: string;
  /** Milliseconds one Redis call may take before it counts as failed (and is tried again). @default 250 */
  timeoutMs?: number;
  /**
   * Milliseconds Redis may be in trouble before this process checks replays alone. Set it above
   * your failover time (Sentinel's `down-after-milliseconds` or the cluster's `cluster-node-timeout`,
   * plus 1–2 s) to keep replay protection through a failover; requests wait at most this long.
   * `0` checks alone at the first failure.
   * @default 5000
   */
  failOpenAfterMs?: number;
  /** Proofs this process remembers itself. @default 100000 */
  localMaxEntries?: number;
  /** Told when Redis fails and when it answers again (never with a key or proof). @default console.warn, once a minute */
  onError?: (message: string) => void;
}

const RETRY_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function redisDpopReplayStore(
  client: RedisClientLike,
  options: RedisDpopReplayStoreOptions = {},
): DpopReplayStore {
  if (typeof client !== 'object' || client === null || typeof client.set !== 'function') {
    throw new TypeError(
      'redisDpopReplayStore() needs a connected Redis client (createClient(), createCluster() or createSentinel() from "redis")',
    );
  }
  const prefix = options.prefix ?? 'portcullis:dpop-jti:';
  const timeoutMs = options.timeoutMs ?? 250;
  const failOpenAfterMs = options.failOpenAfterMs ?? 5000;
  const local = createDpopReplayCache(options.localMaxEntries ?? 100_000);
  let lastWarning = 0;
  const warn =
    options.onError ??
    ((message: string) => {
      if (Date.now() - lastWarning < 60_000) return;
      lastWarning = Date.now();
      console.warn(`portcullis: ${message}`);
    });

  /** Since when Redis has failed every call (undefined: it answers), and what was decided alone. */
  let troubleSince: number | undefined;
  let alone = 0;

  function answered(): void {
    if (troubleSince !== undefined && alone > 0) {
      warn(
        `DPoP replay store: Redis answers again after ${Date.now() - troubleSince} ms; ${alone} proof(s) were checked by this process alone`,
      );
    }
    troubleSince = undefined;
    alone = 0;
  }

  function checkAlone(reason: string): true {
    if (alone++ === 0) {
      warn(`DPoP replay store: ${reason}; this process checks replays alone until Redis answers`);
    }
    return true;
  }

  /** One try: true (new), false (a replay), or throws. */
  async function claim(key: string, owner: string, ttl: number, retried: boolean): Promise<boolean> {
    if (client.isReady === false) throw new Error('Redis is not connected');
    const set = await redisCall(
      client,
      () => client.set(key, owner, { expiration: { type: 'PX', value: ttl }, condition: 'NX' }),
      timeoutMs,
    );
    if (set !== null) return true; // "OK" when the key is new, null when it was there
    // Set before: by another use of the proof, or by our own earlier try that outlived its timeout.
    return retried && (await redisCall(client, () => client.get(key), timeoutMs)) === owner;
  }

  async function shared(key: string, ttl: number): Promise<boolean> {
    const owner = randomUUID();
    const started = Date.now();
    for (let retried = false; ; retried = true) {
      try {
        const fresh = await claim(prefix + key, owner, ttl, retried);
        answered();
        return fresh;
      } catch (err) {
        troubleSince ??= started;
        const reason = `Redis failed (${err instanceof Error ? err.message : 'error'})`;
        if (!isTransientRedisError(err)) return checkAlone(reason);
        if (Date.now() + RETRY_MS > troubleSince + failOpenAfterMs) {
          return checkAlone(`${reason} for ${Date.now() - troubleSince} ms`);
        }
        await sleep(RETRY_MS);
      }
    }
  }

  return {
    admit(key, expiresAt, now) {
      if (!local.admit(key, expiresAt, now)) return false;
      return shared(key, Math.max(1, Math.ceil(expiresAt - now)));
    },
  };
}
