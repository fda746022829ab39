/**
 * Sessions in a real Redis (connect-redis) that is killed and restarted mid-run: requests get a clear
 * 503 ERR_SESSION_STORE quickly (no 500, no hang, no crash), and the app recovers on its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { guardSessionStore } from '../../lib/index.js';
import { startApp } from '../helpers/app.js';
import { TestBrowser } from '../helpers/browser.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, startSigninApp } from './harness.js';

let idp: TestIdp;
let redisServer: ChildProcess | undefined;
let port: number;

async function startRedis(): Promise<void> {
  redisServer = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    const probe = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.quit();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis-server did not start (is it installed? apt-get install redis-server)');
}

async function stopRedis(): Promise<void> {
  const child = redisServer!;
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  idp = await startIdp();
  const probe = await startApp(() => (_req, res) => res.end());
  port = Number(new URL(probe.baseURL).port) + 1;
  await probe.close();
  await startRedis();
});
afterAll(async () => {
  if (redisServer?.exitCode === null) await stopRedis();
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
