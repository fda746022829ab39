/**
 * A session store that fails fast and clearly. express-session passes a store's error to `next(err)`,
 * and a store whose backend is down may hang or throw driver errors; wrapped, every call is bounded by
 * a timeout and fails with a `PortcullisError` `ERR_SESSION_STORE` (503), so the app answers "try
 * again" instead of 500 or a hung request, and recovers as soon as the backend is back.
 */
import type { Store } from 'express-session';
import { PortcullisError } from '../errors.js';

type Callback = (err?: unknown, value?: unknown) => void;
const METHODS = ['get', 'set', 'destroy', 'touch'] as const;

export interface GuardSessionStoreOptions {
  /** Milliseconds a store call may take. @default 2000 */
  timeout?: number;
}

/**
 * Wrap an express-session store (in place) so that its failures and stalls become 503s.
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
  for (const name of METHODS) {
    const original = methods[name];
    if (typeof original !== 'function') continue;
    methods[name] = function guarded(this: unknown, ...args: unknown[]) {
      const callback = typeof args.at(-1) === 'function' ? (args.pop() as Callback) : undefined;
      let settled = false;
      const finish = (err?: unknown, value?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === undefined || err === null) callback?.(null, value);
        // express-session reads ENOENT from get() as "no such session" (file stores): keep it.
        else if ((err as { code?: unknown }).code === 'ENOENT') callback?.(err);
        else
          callback?.(
            new PortcullisError('ERR_SESSION_STORE', 'the session store is unavailable; try again shortly', {
              status: 503,
              cause: err instanceof Error ? { name: err.name, message: err.message } : undefined,
            }),
          );
      };
      const timer = setTimeout(() => finish(new Error(`no answer within ${timeout} ms`)), timeout);
      try {
        original.call(store, ...args, finish);
      } catch (err) {
        finish(err);
      }
    };
  }
  return store;
}
