/**
 * Getting through a Redis failover with the clients of the `redis` package, for every Redis-backed
 * part of portcullis.
 *
 * - `createSentinel()` follows the Sentinels to the new master by itself, and `createClient()`
 *   reconnects to its one address: for them a failed call is only worth trying again.
 * - `createCluster()` refreshes its slot map only when a node answers `MOVED` or `ASK`. A master that
 *   dies and stays dead never answers, so the commands for its slots keep going to it (failing at
 *   once with `disableOfflineQueue`, or waiting forever in its offline queue) although its replica
 *   took over long ago. So when a call fails or stalls, portcullis asks the cluster client to
 *   rediscover its slots from a live node, at most every {@link REDISCOVER_EVERY_MS} per client. Once
 *   the replica is promoted, the next rediscovery routes the slots to it and drops the dead node's
 *   client, which also fails the commands queued there, so that their callers try again.
 */

/** At most one slot rediscovery per cluster client in this many milliseconds. */
export const REDISCOVER_EVERY_MS = 250;

/** What node-redis (v5) `createCluster()` clients expose that a rediscovery needs, typed by shape. */
interface ClusterLike {
  readonly masters: ReadonlyArray<{ readonly client?: { readonly isReady?: boolean } | undefined }>;
  readonly _slots: { rediscover(startWith: unknown): Promise<void> };
  /** False once the app closed the client: a rediscovery would connect its nodes again. */
  readonly isOpen?: boolean;
}

let warnedUnsupported = false;

function asCluster(client: unknown): ClusterLike | undefined {
  const candidate = client as (Partial<ClusterLike> & { nodeClient?: unknown }) | null | undefined;
  if (!Array.isArray(candidate?.masters)) return undefined;
  if (typeof candidate._slots?.rediscover === 'function') return candidate as ClusterLike;
  // A cluster client of another shape (a future node-redis): say once that failovers may not heal.
  if (typeof candidate.nodeClient === 'function' && !warnedUnsupported) {
    warnedUnsupported = true;
    console.warn(
      'portcullis: this Redis Cluster client has no _slots.rediscover(): after a failover, its commands may keep going to the dead master (tested with redis 5.x)',
    );
  }
  return undefined;
}

const lastRediscovery = new WeakMap<object, number>();

/**
 * After a failed or stalled call: on a cluster client, rediscover the slots from a live master (or,
 * when none is connected, from the root nodes), throttled; on any other client, nothing. Never throws.
 */
export function rediscover(client: unknown): void {
  const cluster = asCluster(client);
  if (cluster === undefined || cluster.isOpen === false) return;
  const now = Date.now();
  if (now - (lastRediscovery.get(cluster) ?? 0) < REDISCOVER_EVERY_MS) return;
  lastRediscovery.set(cluster, now);
  // The start node's address is only a first guess: node-redis falls back to its root nodes.
  const masters = cluster.masters.filter((m) => m.client !== undefined);
  const start = masters.find((m) => m.client?.isReady === true) ?? masters[0];
  if (start === undefined) return;
  cluster._slots.rediscover(start.client).catch(() => undefined); // the next failure tries again
}

/** Replies that mean "not now": a failover or a resharding under way, a replica not yet promoted. */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|TRYAGAIN|READONLY|LOADING|MASTERDOWN|MOVED|ASK)\b/;
/** Any other reply with an error code (ERR, WRONGTYPE, NOAUTH, OOM…) will not change on a retry. */
const SERVER_REPLY = /^[A-Z][A-Z_]+\b/;

/**
 * Whether trying again may succeed: connection failures, timeouts and the replies of a failover do;
 * an error the server meant (a wrong type, a script error, bad credentials) does not.
 */
export function isTransientRedisError(err: unknown): boolean {
  const message = String((err as { message?: unknown } | null)?.message ?? err);
  return TRANSIENT_REPLY.test(message) || !SERVER_REPLY.test(message);
}

export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
}

/**
 * One Redis call bounded by `timeoutMs`; when it fails or times out, a cluster client rediscovers
 * its slots before the error reaches the caller, so that the caller's next call may succeed.
 */
export async function redisCall<T>(client: unknown, run: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([run(), timeout]);
  } catch (err) {
    rediscover(client);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
