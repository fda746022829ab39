/**
 * A session store that is told "still in use" at most once per `interval` per session, not on every
 * request.
 *
 * express-session calls the store's `touch()` on every request whose session did not change, so that
 * the store keeps an active session. Until the store has answered, it holds back the end of the
 * response; a store that answers later (MemoryStore on the next turn of the event loop, Redis after
 * a round trip) makes every signed-in request cost a store call, a second socket write and an event
 * loop turn: about half of what express-session costs per request (bench/signin/per-request.ts).
 *
 * Throttled, a touch less than `interval` after this process last touched or saved that session
 * answers at once, without calling the store, and express-session then sends the response in one
 * piece. The price: an idle session's expiry in the store is pushed back at most once per
 * `interval`, so it may end up to `interval` seconds sooner than without the wrapper. Each process
 * remembers the last `maxSessions` sessions it touched; a session it forgot is touched at its next
 * request, as before.
 */
import type { Store } from 'express-session';

type Callback = (err?: unknown) => void;
type Method = (this: unknown, ...args: unknown[]) => unknown;

export interface ThrottleTouchOptions {
  /**
   * Seconds between two touches of one session by this process. Keep it a small part of your
   * session's idle lifetime (`cookie.maxAge`, or the store's TTL).
   * @default 60
   */
  interval?: number;
  /**
   * Sessions this process remembers touching (about 100 bytes each); beyond, the least recently
   * touched are forgotten first.
   * @default 10000
   */
  maxSessions?: number;
}

function checkOptions(store: unknown, { interval, maxSessions }: Required<ThrottleTouchOptions>): void {
  if (typeof store !== 'object' || store === null || typeof (store as { get?: unknown }).get !== 'function') {
    throw new TypeError(
      'throttleTouch() takes an express-session store: throttleTouch(new RedisStore({ client }))',
    );
  }
  if (typeof interval !== 'number' || !Number.isFinite(interval) || !(interval > 0)) {
    throw new TypeError(`throttleTouch(): "interval" must be a positive number of seconds, not ${interval}`);
  }
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
    throw new TypeError(`throttleTouch(): "maxSessions" must be a positive integer, not ${maxSessions}`);
  }
}

/** Stores wrapped already: wrapping again (the app's own call, then auth()'s) keeps the first settings. */
const throttled = new WeakSet<object>();

/**
 * Wrap an express-session store (in place) so that a session is touched at most once per `interval`
 * seconds per process; a store without `touch()`, or one wrapped already, is returned as it is.
 * `auth()` does this to the store it finds on its first request (`sessionTouchInterval`, default 60
 * seconds); call it yourself to choose the settings for the whole app.
 *
 * @example
 * ```ts
 * app.use(session({ store: throttleTouch(new RedisStore({ client: redis })), secret, resave: false, saveUninitialized: false }));
 * ```
 */
export function throttleTouch<S extends Store>(store: S, options: ThrottleTouchOptions = {}): S {
  const settings = { interval: 60, maxSessions: 10_000, ...options };
  checkOptions(store, settings);
  const methods = store as unknown as Record<string, Method | undefined>;
  const touch = methods.touch;
  const set = methods.set;
  const destroy = methods.destroy;
  if (typeof touch !== 'function' || throttled.has(store)) return store;
  throttled.add(store);
  const intervalMs = settings.interval * 1000;
  /** When this process last touched or saved each session; Map order is the order of those times. */
  const touchedAt = new Map<string, number>();
  const remember = (sid: string, at: number) => {
    touchedAt.delete(sid);
    touchedAt.set(sid, at);
    if (touchedAt.size > settings.maxSessions) touchedAt.delete(touchedAt.keys().next().value!);
  };
  const forgetOnError =
    (sid: string, callback: Callback | undefined): Callback =>
    (err) => {
      if (err !== undefined && err !== null) touchedAt.delete(sid);
      callback?.(err);
    };

  methods.touch = function throttledTouch(this: unknown, sid: unknown, session: unknown, callback?: unknown) {
    const done = typeof callback === 'function' ? (callback as Callback) : undefined;
    if (typeof sid !== 'string') return touch.call(store, sid, session, callback);
    const now = Date.now();
    const last = touchedAt.get(sid);
    if (last !== undefined && now - last < intervalMs && now >= last) {
      // Answered in this tick, on purpose: express-session then ends the response in one write.
      done?.(null);
      return undefined;
    }
    remember(sid, now); // before the store answers: requests meanwhile do not touch it again
    return touch.call(store, sid, session, forgetOnError(sid, done));
  };
  if (typeof set === 'function') {
    // A save pushes the expiry back as a touch does.
    methods.set = function rememberedSet(this: unknown, sid: unknown, session: unknown, callback?: unknown) {
      if (typeof sid !== 'string') return set.call(store, sid, session, callback);
      remember(sid, Date.now());
      const done = typeof callback === 'function' ? (callback as Callback) : undefined;
      return done === undefined
        ? set.call(store, sid, session)
        : set.call(store, sid, session, forgetOnError(sid, done));
    };
  }
  if (typeof destroy === 'function') {
    methods.destroy = function forgottenDestroy(this: unknown, sid: unknown, ...rest: unknown[]) {
      if (typeof sid === 'string') touchedAt.delete(sid);
      return destroy.call(store, sid, ...rest);
    };
  }
  return store;
}

/** auth()'s default: the store of its requests throttled, unless that is not a store it can wrap. */
export function throttleSessionTouch(store: unknown, interval: number): void {
  if (interval <= 0 || typeof store !== 'object' || store === null) return;
  if (typeof (store as { get?: unknown }).get !== 'function') return;
  throttleTouch(store as Store, { interval });
}
