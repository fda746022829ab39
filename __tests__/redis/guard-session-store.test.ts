/**
 * guardSessionStore() on scripted stores: a failover (transient errors that stop) costs latency,
 * not a 503; an error retrying cannot fix, a stall past the timeout and an outage answer 503; a
 * stalled or failed call makes a cluster client (connect-redis's `store.client`) rediscover its slots.
 */
import { expect, test } from '@jest/globals';
import session from 'express-session';
import { guardSessionStore } from '../../lib/index.js';
import { REDISCOVER_EVERY_MS } from '../../lib/protocol/redis-recovery.js';

type Callback = (err: unknown, value?: session.SessionData | null) => void;
const DATA = { user: 'u' } as unknown as session.SessionData;

/** A store whose get() answers as `answer` says, counting the calls. */
class ScriptedStore extends session.Store {
  calls = 0;
  client: unknown;
  constructor(readonly answer: (call: number, cb: Callback) => void) {
    super();
  }
  override get(_sid: string, cb: Callback): void {
    this.answer(++this.calls, cb);
  }
  override set(_sid: string, _session: session.SessionData, cb?: (err?: unknown) => void): void {
    cb?.();
  }
  override destroy(_sid: string, cb?: (err?: unknown) => void): void {
    cb?.();
  }
}

function get(store: session.Store): Promise<{ err: unknown; value: unknown; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) =>
    store.get('sid', (err, value) => resolve({ err, value, ms: Date.now() - started })),
  );
}

const offline = new Error('The client is offline');

test('transient errors that stop within the timeout: the call is tried again and succeeds', async () => {
  const store = guardSessionStore(
    new ScriptedStore((call, cb) => (call < 4 ? cb(offline) : cb(null, DATA))),
    { timeout: 2000 },
  );
  const { err, value, ms } = await get(store);
  expect(err).toBeNull();
  expect(value).toEqual(DATA);
  expect(store.calls).toBe(4);
  expect(ms).toBeGreaterThanOrEqual(250);
});

test('an error retrying cannot fix: a 503 at once', async () => {
  const store = guardSessionStore(
    new ScriptedStore((_call, cb) => cb(new Error('WRONGTYPE Operation against a key'))),
    { timeout: 2000 },
  );
  const { err, ms } = await get(store);
  expect(err).toMatchObject({ code: 'ERR_SESSION_STORE', status: 503 });
  expect(store.calls).toBe(1);
  // No wait for the 2 s timeout (the call count above proves no retry; the bound leaves a loaded CI room).
  expect(ms).toBeLessThan(1000);
});

test('a call that stalls: a cluster client rediscovers its slots while it waits, then a 503 at the timeout', async () => {
  const starts: unknown[] = [];
  const node = { isReady: true };
  const store = new ScriptedStore(() => undefined); // never answers
  store.client = {
    masters: [{ client: node }],
    _slots: { rediscover: async (s: unknown) => void starts.push(s) },
  };
  guardSessionStore(store, { timeout: 3 * REDISCOVER_EVERY_MS + 100 });
  const { err, ms } = await get(store);
  expect(err).toMatchObject({ code: 'ERR_SESSION_STORE', status: 503 });
  expect(ms).toBeGreaterThanOrEqual(3 * REDISCOVER_EVERY_MS);
  expect(starts.length).toBeGreaterThanOrEqual(2);
  expect(starts.every((s) => s === node)).toBe(true);
});

test('an outage longer than the timeout: later calls answer 503 at their first error, and recover with the store', async () => {
  let down = true;
  const store = guardSessionStore(new ScriptedStore((_call, cb) => (down ? cb(offline) : cb(null, DATA))), {
    timeout: 300,
  });
  const first = await get(store);
  expect(first.err).toMatchObject({ code: 'ERR_SESSION_STORE' });
  expect(first.ms).toBeGreaterThanOrEqual(200);
  const calls = store.calls;
  const later = await get(store);
  expect(later.err).toMatchObject({ code: 'ERR_SESSION_STORE' });
  expect(later.ms).toBeLessThan(200); // not the 300 ms timeout again
  expect(store.calls).toBe(calls + 1);
  down = false;
  expect((await get(store)).value).toEqual(DATA);
  // Trouble over: the next blip is ridden out again. 50 ms, so that the first retry (100 ms) finds the
  // store back: a 150 ms blip needed a second retry inside the 300 ms timeout, which a loaded CI missed.
  down = true;
  setTimeout(() => {
    down = false;
  }, 50);
  expect((await get(store)).value).toEqual(DATA);
});

test('ENOENT from get() is "no such session" (file stores): passed on as it is, not retried', async () => {
  const missing = Object.assign(new Error('no such file'), { code: 'ENOENT' });
  const store = guardSessionStore(new ScriptedStore((_call, cb) => cb(missing)), { timeout: 2000 });
  const { err } = await get(store);
  expect(err).toBe(missing);
  expect(store.calls).toBe(1);
});
