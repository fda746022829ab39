/**
 * throttleTouch() under express-session, over HTTP: a session is touched in the store at most once
 * per interval per process (a save counts), the response arrives whole either way, an active
 * session stays alive and an idle one ends, a failed touch is tried again, and bad options are a
 * TypeError. Stores are real: express-session's MemoryStore, and connect-redis on the local Redis.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session, { MemoryStore, type SessionData } from 'express-session';
import { createClient } from 'redis';
import request from 'supertest';
import { type AuthOptions, auth, throttleTouch } from '../../lib/index.js';

type Callback = (err?: unknown) => void;

/** A MemoryStore that counts the calls express-session makes, and can be told to fail touches. */
class CountingStore extends MemoryStore {
  touches = 0;
  sets = 0;
  failTouches = false;
  override touch(sid: string, sess: SessionData, cb?: Callback): void {
    this.touches++;
    if (this.failTouches) {
      cb?.(new Error('store down'));
      return;
    }
    super.touch(sid, sess, cb);
  }
  override set(sid: string, sess: SessionData, cb?: Callback): void {
    this.sets++;
    super.set(sid, sess, cb);
  }
}

function app(
  store: session.Store,
  cookie: session.CookieOptions = {},
  rolling = false,
  signin?: Partial<AuthOptions>,
) {
  const app = express();
  app.use(
    session({
      secret: 'throttle-touch-test-secret',
      store,
      resave: false,
      saveUninitialized: false,
      cookie,
      rolling,
    }),
  );
  // auth() with no IdP call to make: its routes are elsewhere, and no route needs a login.
  if (signin !== undefined) {
    app.use(
      auth({
        issuerBaseURL: 'https://idp.example.com',
        baseURL: 'http://127.0.0.1:3000',
        clientID: 'app',
        clientSecret: 'secret',
        routes: { login: '/idp-login' },
        ...signin,
      }),
    );
  }
  app.get('/login', (req, res) => {
    (req.session as unknown as { user: string }).user = 'ada';
    res.send('signed in');
  });
  app.get('/change', (req, res) => {
    (req.session as unknown as { n: number }).n = Date.now();
    res.send('changed');
  });
  app.get('/page', (req, res) => {
    res.send(`hello ${(req.session as unknown as { user?: string }).user ?? 'nobody'}`);
  });
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(503).send(err.message);
  });
  return app;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('throttleTouch() with MemoryStore', () => {
  test('signed-in requests within the interval touch the store once, and each answer is whole', async () => {
    const store = new CountingStore();
    const agent = request.agent(app(throttleTouch(store, { interval: 60 })));
    await agent.get('/login').expect(200);
    for (let i = 0; i < 20; i++) {
      const res = await agent.get('/page').expect(200);
      expect(res.text).toBe('hello ada');
      expect(res.headers['content-length']).toBe('9');
    }
    // The login saved the session: that counts as a touch, so none of the 20 pages touched it.
    expect(store.sets).toBe(1);
    expect(store.touches).toBe(0);
  });

  test('without the wrapper, every request touches the store (what the wrapper saves)', async () => {
    const store = new CountingStore();
    const agent = request.agent(app(store));
    await agent.get('/login').expect(200);
    for (let i = 0; i < 5; i++) await agent.get('/page').expect(200, 'hello ada');
    expect(store.touches).toBe(5);
  });

  test('past the interval the session is touched again, once', async () => {
    const store = new CountingStore();
    const agent = request.agent(app(throttleTouch(store, { interval: 0.2 })));
    await agent.get('/login').expect(200);
    await agent.get('/page').expect(200, 'hello ada');
    expect(store.touches).toBe(0);
    await sleep(250);
    for (let i = 0; i < 5; i++) await agent.get('/page').expect(200, 'hello ada');
    expect(store.touches).toBe(1);
  });

  test('a save pushes the next touch back like a touch does', async () => {
    const store = new CountingStore();
    const agent = request.agent(app(throttleTouch(store, { interval: 0.3 })));
    await agent.get('/login').expect(200);
    await sleep(200);
    await agent.get('/change').expect(200);
    await sleep(200); // 400 ms after the login, 200 ms after the save
    await agent.get('/page').expect(200, 'hello ada');
    expect(store.touches).toBe(0);
    expect(store.sets).toBe(2);
  });

  test('an active session outlives its idle lifetime; an idle one ends', async () => {
    const store = new CountingStore();
    // Cookie expiry has a granularity of one second: an idle lifetime of 2 s.
    const agent = request.agent(app(throttleTouch(store, { interval: 0.3 }), { maxAge: 2000 }, true));
    await agent.get('/login').expect(200);
    // 2.8 s of activity, longer than the idle lifetime: the store's expiry keeps being pushed back.
    for (let i = 0; i < 7; i++) {
      await sleep(400);
      await agent.get('/page').expect(200, 'hello ada');
    }
    expect(store.touches).toBeGreaterThanOrEqual(5);
    await sleep(2100);
    await agent.get('/page').expect(200, 'hello nobody');
  });

  test('a touch that failed is tried again at the next request', async () => {
    const store = new CountingStore();
    const agent = request.agent(app(throttleTouch(store, { interval: 0.1 })));
    await agent.get('/login').expect(200);
    await sleep(150);
    store.failTouches = true;
    await agent.get('/page').expect(200, 'hello ada'); // express-session answers, then passes the error on
    store.failTouches = false;
    await agent.get('/page').expect(200, 'hello ada');
    expect(store.touches).toBe(2);
  });

  test('sessions beyond maxSessions are forgotten, least recent first, and touched as before', async () => {
    const store = new CountingStore();
    const wrapped = app(throttleTouch(store, { interval: 60, maxSessions: 1 }));
    const ada = request.agent(wrapped);
    const bob = request.agent(wrapped);
    await ada.get('/login').expect(200);
    await bob.get('/login').expect(200); // ada is forgotten
    await ada.get('/page').expect(200, 'hello ada'); // touched; bob forgotten
    await bob.get('/page').expect(200, 'hello ada');
    await bob.get('/page').expect(200, 'hello ada'); // remembered now
    expect(store.touches).toBe(2);
  });

  test('a destroyed session is forgotten', async () => {
    const store = new CountingStore();
    const wrapped = throttleTouch(store, { interval: 60 });
    await new Promise<void>((resolve) =>
      wrapped.set('sid-1', { cookie: {} } as SessionData, () => resolve()),
    );
    await new Promise<void>((resolve) => wrapped.destroy('sid-1', () => resolve()));
    await new Promise<void>((resolve) =>
      wrapped.touch!('sid-1', { cookie: {} } as SessionData, () => resolve()),
    );
    expect(store.touches).toBe(1);
  });

  test('a clock set back does not stop the touches', async () => {
    const store = new CountingStore();
    const wrapped = throttleTouch(store, { interval: 60 });
    const touch = () =>
      new Promise<void>((resolve) => wrapped.touch!('sid-2', { cookie: {} } as SessionData, () => resolve()));
    await new Promise<void>((resolve) =>
      wrapped.set('sid-2', { cookie: {} } as SessionData, () => resolve()),
    );
    const realNow = Date.now;
    Date.now = () => realNow() - 3_600_000; // NTP stepped the clock back an hour
    try {
      await touch();
    } finally {
      Date.now = realNow;
    }
    expect(store.touches).toBe(1);
  });
});

describe('throttleTouch() with connect-redis', () => {
  const redis = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  const prefix = `throttle-touch-${process.pid}:`;
  afterAll(async () => {
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*` }))
      if (keys.length > 0) await redis.del(keys);
    await redis.quit();
  });

  test("the key's TTL is renewed once per interval, not per request", async () => {
    await redis.connect();
    const store = throttleTouch(new RedisStore({ client: redis, prefix, ttl: 100 }), { interval: 1 });
    const agent = request.agent(app(store));
    await agent.get('/login').expect(200);
    const [key] = await redis.keys(`${prefix}*`);
    await redis.expire(key!, 50); // as if time had passed since the save
    for (let i = 0; i < 5; i++) await agent.get('/page').expect(200, 'hello ada');
    expect(await redis.ttl(key!)).toBeLessThanOrEqual(50);
    await sleep(1100);
    await agent.get('/page').expect(200, 'hello ada');
    expect(await redis.ttl(key!)).toBeGreaterThan(90);
  });
});

describe('throttleTouch() options', () => {
  test.each([
    [{ interval: 0 }, /"interval" must be a positive number of seconds, not 0/],
    [{ interval: -5 }, /"interval" must be a positive number/],
    [{ interval: Number.NaN }, /"interval" must be a positive number/],
    [{ interval: '60' as unknown as number }, /"interval" must be a positive number/],
    [{ maxSessions: 0 }, /"maxSessions" must be a positive integer, not 0/],
    [{ maxSessions: 1.5 }, /"maxSessions" must be a positive integer/],
  ])('%p is a TypeError', (options, message) => {
    expect(() => throttleTouch(new MemoryStore(), options)).toThrow(TypeError);
    expect(() => throttleTouch(new MemoryStore(), options)).toThrow(message);
  });

  test('something that is not a store is a TypeError that says what to pass', () => {
    expect(() => throttleTouch({} as session.Store)).toThrow(/takes an express-session store/);
    expect(() => throttleTouch(undefined as unknown as session.Store)).toThrow(TypeError);
  });

  test('a store without touch() is returned as it is', () => {
    const store = new MemoryStore();
    (store as { touch?: unknown }).touch = undefined;
    const wrapped = throttleTouch(store);
    expect(wrapped).toBe(store);
    expect(wrapped.touch).toBeUndefined();
  });
});

describe("auth()'s sessionTouchInterval", () => {
  async function touchesOver20Pages(store: CountingStore, signin: Partial<AuthOptions>) {
    const agent = request.agent(app(store, {}, false, signin));
    await agent.get('/login').expect(200);
    for (let i = 0; i < 20; i++) expect((await agent.get('/page').expect(200)).text).toBe('hello ada');
    return store.touches;
  }

  test('by default auth() throttles the touches of the store it finds: 20 pages, no touch', async () => {
    expect(await touchesOver20Pages(new CountingStore(), {})).toBe(0);
  });

  test('0 leaves express-session touching the store on every request', async () => {
    expect(await touchesOver20Pages(new CountingStore(), { sessionTouchInterval: 0 })).toBe(20);
  });

  test('a store the app wrapped itself keeps its own interval', async () => {
    const store = new CountingStore();
    const agent = request.agent(app(throttleTouch(store, { interval: 0.05 }), {}, false, {}));
    await agent.get('/login').expect(200);
    await agent.get('/page').expect(200);
    await sleep(80);
    await agent.get('/page').expect(200);
    // auth()'s 60 s did not replace the app's 50 ms: the second page, 80 ms later, touched it.
    expect(store.touches).toBe(1);
  });

  test('the interval comes from SESSION_TOUCH_INTERVAL too', async () => {
    process.env.SESSION_TOUCH_INTERVAL = '0';
    try {
      expect(await touchesOver20Pages(new CountingStore(), {})).toBe(20);
    } finally {
      delete process.env.SESSION_TOUCH_INTERVAL;
    }
  });

  test.each([-1, Number.NaN, '60', 86_401])('%p is a start-up TypeError', (value) => {
    expect(() => app(new MemoryStore(), {}, false, { sessionTouchInterval: value as number })).toThrow(
      /"sessionTouchInterval" must be a number from 0 to 86400/,
    );
  });
});
