/**
 * redisDpopReplayStore through a failover and an outage, on scripted clients: it waits for Redis
 * (up to `failOpenAfterMs` from the moment the trouble began) rather than accept a proof it cannot
 * check, never mistakes its own late write for a replay, and past that bound checks alone, at once,
 * saying so once, and again with a count when Redis is back.
 */
import { expect, test } from '@jest/globals';
import { type RedisClientLike, redisDpopReplayStore } from '../../lib/index.js';

const offline = () => Promise.reject(new Error('The client is offline'));

/** A Redis of one map with SET NX semantics, that fails while `down()` says so. */
function scripted(down: () => boolean, delayMs = () => 0) {
  const data = new Map<string, string>();
  const client = {
    data,
    async set(key: string, value: string, options?: { condition?: 'NX' }) {
      if (down()) return offline();
      await new Promise((resolve) => setTimeout(resolve, delayMs()));
      if (options?.condition === 'NX' && data.has(key)) return null;
      data.set(key, value);
      return 'OK';
    },
    async get(key: string) {
      return down() ? offline() : (data.get(key) ?? null);
    },
    del: async () => 0,
    eval: async () => 0,
  };
  return client satisfies RedisClientLike;
}

const admit = (store: ReturnType<typeof redisDpopReplayStore>, key: string) =>
  store.admit(key, Date.now() + 60_000, Date.now());

test('a failover shorter than failOpenAfterMs: the check waits for the new master, and a replay is refused', async () => {
  const downUntil = Date.now() + 600;
  const redis = scripted(() => Date.now() < downUntil);
  redis.data.set('portcullis:dpop-jti:seen', 'another process'); // the promoted replica had it
  const warnings: string[] = [];
  const store = redisDpopReplayStore(redis, { failOpenAfterMs: 3000, onError: (m) => warnings.push(m) });
  const started = Date.now();
  expect(await admit(store, 'seen')).toBe(false);
  expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  expect(await admit(store, 'new')).toBe(true);
  expect(warnings).toEqual([]); // nothing was decided alone
});

test('a write that lands after its try timed out is not taken for a replay on the next try', async () => {
  let tries = 0;
  const redis = scripted(
    () => false,
    () => (++tries === 1 ? 150 : 0), // the first SET lands after its 100 ms timeout, before the retry
  );
  const store = redisDpopReplayStore(redis, { timeoutMs: 100, failOpenAfterMs: 3000 });
  expect(await admit(store, 'mine')).toBe(true);
  expect(tries).toBeGreaterThanOrEqual(2);
  // …and it is remembered: another process replaying it is refused.
  expect(await admit(redisDpopReplayStore(redis), 'mine')).toBe(false);
});

test('an outage: checks wait at most failOpenAfterMs, then answer at once from memory, logged once and at recovery', async () => {
  let down = true;
  const redis = scripted(() => down);
  const warnings: string[] = [];
  const store = redisDpopReplayStore(redis, { failOpenAfterMs: 400, onError: (m) => warnings.push(m) });
  let started = Date.now();
  expect(await admit(store, 'a')).toBe(true);
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  expect(Date.now() - started).toBeLessThan(1000);
  started = Date.now();
  expect(await admit(store, 'b')).toBe(true);
  expect(await admit(store, 'b')).toBe(false); // this process still remembers its own
  expect(Date.now() - started).toBeLessThan(300); // two checks, neither waits the 400 ms again
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(
    /^DPoP replay store: Redis failed \(The client is offline\) for \d+ ms; this process checks replays alone until Redis answers$/,
  );
  down = false;
  expect(await admit(store, 'c')).toBe(true);
  expect(warnings[1]).toMatch(
    /^DPoP replay store: Redis answers again after \d+ ms; 2 proof\(s\) were checked by this process alone$/,
  );
});

test('an error retrying cannot fix: the process decides alone at once', async () => {
  const redis = {
    ...scripted(() => false),
    set: () => Promise.reject(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')),
  };
  const warnings: string[] = [];
  const store = redisDpopReplayStore(redis, { onError: (m) => warnings.push(m) });
  const started = Date.now();
  expect(await admit(store, 'x')).toBe(true);
  expect(Date.now() - started).toBeLessThan(1000); // not the 5 s failOpenAfterMs
  expect(warnings).toHaveLength(1);
});
