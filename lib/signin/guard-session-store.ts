/**
 * A session store that rides out a failover and fails fast and clearly in an outage. express-session
 * passes a store's error to `next(err)`, and a store whose backend is down may hang or throw driver
 * errors. Wrapped, every call is bounded by `timeout`:
 *
 * 1. A call that fails with a transient error (a lost connection, `CLUSTERDOWN`, `READONLY` from a
 *    demoted master…) is tried again every 100 ms within its `timeout`; a call that stalls, or fails,
 *    makes a Redis Cluster client (connect-redis's `store.client`) rediscover its slots, so that the
 *    slots of a dead master reach its promoted replica. A failover shorter than `timeout` costs the
 *    requests it meets some latency, not an error.
 * 2. Past `timeout`, or at once for an error that retrying cannot fix, the call fails with a
 *    `PortcullisError` `ERR_SESSION_STORE` (503): the app answers "try again" instead of 500 or a hung
 *    request. Once the store has failed for longer than `timeout` (an outage, not a failover), calls
 *    are no longer retried, so each answers 503 at its first error, until the store answers again.
 */
import type { Store } from 'express-session';
import { PortcullisError } from '../errors.js';
import { isTransientRedisError, rediscover } from '../protocol/redis-recovery.js';

type Callback = (err?: unknown, value?: unknown) => void;
const METHODS = ['get', 'set', 'destroy', 'touch'] as const;
/** Pause between tries, and how long a try may stall before a cluster rediscovers its slots. */
const RETRY_MS = 100;
const STALL_MS = 250;

export interface GuardSessionStoreOptions {
  /**
   * Milliseconds a store call may take, retries included. Above your failover time (Sentinel's
   * `down-after-milliseconds` or `cluster-node-timeout`, plus 1–2 s), a failover costs no 503s.
   * @default 2000
   */
  timeout?: number;
}

/** An answer, not a failure: express-session reads ENOENT from get() as "no such session" (file stores). */
const answered = (err: unknown) =>
  err === undefined || err === null || (err as { code?: unknown }).code === 'ENOENT';

function unavailable(err: unknown): PortcullisError {
  return new PortcullisError('ERR_SESSION_STORE', 'the session store is unavailable; try again shortly', {
    status: 503,
    cause: err instanceof Error ? { name: err.name, message: err.message } : undefined,
  });
}

/**
 * Wrap an express-session store (in place) so that a failover costs latency and an outage 503s.
 *
 * @example
 * ```ts
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
 * app.use(session({ store: guardSessionStore(new RedisStore({ client: redis })), secret, resave: false, saveUninitialized: false }));
 * ```
 */
export function guardSessionStore<S extends Store>(
  store: S,
  { timeout = 2000 }: GuardSessionStoreOptions = {},
): S {
  if (typeof timeout !== 'number' || !(timeout > 0))
    throw new TypeError('"timeout" must be a positive number');
  const methods = store as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>;
  /** connect-redis keeps its client here: the one to rediscover when it is a cluster's. */
  const client = () => (store as { client?: unknown }).client;
  /** Since when every call has failed; undefined while the store answers. */
  let troubleSince: number | undefined;

  for (const name of METHODS) {
    const original = methods[name];
    if (typeof original !== 'function') continue;
    methods[name] = function guarded(this: unknown, ...args: unknown[]) {
      const callback = typeof args.at(-1) === 'function' ? (args.pop() as Callback) : undefined;
      const started = Date.now();
      // Retries only while the trouble is younger than `timeout`: in an outage, answer at once.
      const retryUntil = Math.min(started, troubleSince ?? started) + timeout;
      let settled = false;
      let tries = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: unknown, value?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (answered(err)) {
          troubleSince = undefined;
          callback?.(err ?? null, value);
        } else {
          troubleSince ??= started;
          callback?.(unavailable(err));
        }
      };
      const failed = (err: unknown) => {
        rediscover(client());
        if (isTransientRedisError(err) && Date.now() + RETRY_MS < retryUntil) {
          troubleSince ??= started;
          setTimeout(attempt, RETRY_MS);
        } else {
          finish(err);
        }
      };
      function attempt(): void {
        if (settled) return;
        const mine = ++tries; // an earlier try that answers late is not this one
        try {
          original!.call(store, ...args, (err?: unknown, value?: unknown) => {
            if (settled || mine !== tries) return;
            if (answered(err)) finish(err, value);
            else failed(err);
          });
        } catch (err) {
          failed(err);
        }
      }
      // One timer for the whole call: every STALL_MS without an answer, a cluster rediscovers its
      // slots (which also fails the commands queued for a dead master); at `timeout`, a 503.
      const tick = () => {
        if (Date.now() - started >= timeout) {
          rediscover(client());
          finish(new Error(`no answer within ${timeout} ms`));
          return;
        }
        rediscover(client());
        timer = setTimeout(tick, Math.min(STALL_MS, started + timeout - Date.now()));
      };
      timer = setTimeout(tick, Math.min(STALL_MS, timeout));
      attempt();
    };
  }
  return store;
}
