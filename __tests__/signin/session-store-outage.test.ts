/**
 * Sessions in a real Redis (connect-redis) that is killed and restarted mid-run: requests get a clear
 * 503 ERR_SESSION_STORE quickly (no 500, no hang, no crash), and the app recovers on its own.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { guardSessionStore } from '../../lib/index.js';
import { TestBrowser } from '../helpers/browser.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { freePort, type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { loginAs, startSigninApp } from './harness.js';

let idp: TestIdp;
let redisServer: RedisServer | undefined;
let port: number;

/** A redis-server of our own on `port`, the same each time, so that the app's client finds it again. */
async function startRedis(): Promise<void> {
  redisServer = await startRedisServer('redis-server', { port });
}

async function stopRedis(): Promise<void> {
  await redisServer?.stop('SIGKILL');
}

beforeAll(async () => {
  idp = await startIdp();
  // A port nothing listens on (the app's port + 1, as before, could be another test's Redis).
  port = await freePort();
  await startRedis();
});
afterAll(async () => {
  await stopRedis();
  await idp.close();
});

test('Redis down: a clear 503, never a 500 or a hang; Redis back: the app recovers without restart', async () => {
  const client = createClient({
    url: `redis://127.0.0.1:${port}`,
    disableOfflineQueue: true, // fail at once while disconnected instead of queueing
    socket: { reconnectStrategy: () => 100 },
  });
  client.on('error', () => undefined);
  await client.connect();
  const store = guardSessionStore(new RedisStore({ client, prefix: 'outage:' }), { timeout: 1000 });
  const app = await startSigninApp(idp, { store });
  try {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);

    await stopRedis();
    const started = Date.now();
    for (const path of ['/me', '/login', '/profile']) {
      const res = await browser.get(`${app.baseURL}${path}`);
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body).code).toBe('ERR_SESSION_STORE');
    }
    const fresh = await new TestBrowser().get(`${app.baseURL}/login`);
    expect(fresh.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);

    await startRedis();
    for (let i = 0; i < 50 && !client.isReady; i++) await new Promise((r) => setTimeout(r, 100));
    // The data went with the old Redis (no persistence): the user logs in again, and all works.
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
    const { result } = await loginAs(browser, app);
    expect(result.status).toBe(302);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
  } finally {
    await app.close();
    client.destroy();
  }
});
