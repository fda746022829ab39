/**
 * What every Redis-backed part sends on a request path, read with MONITOR on a redis-server of our
 * own: a login, a page, a refresh, the IdP's back-channel logout, an agent's token and a DPoP-bound
 * API call. Only single-key commands (a script names one key too), so that a Redis Cluster serves
 * each from one shard and nothing can be refused with CROSSSLOT; never KEYS or SCAN; every key
 * written expires. With PORTCULLIS_TEST_VERBOSE set, prints each kind of key with its TTL and bytes
 * (the table in docs/fleet.md).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { RedisStore } from 'connect-redis';
import request from 'supertest';
import { guardSessionStore, redisDpopReplayStore, redisTokenCache, serviceAgent } from '../../lib/index.js';
import { buildApp } from '../api/app.js';
import { API_BASE, boundToken, dpopKey, proof } from '../helpers/dpop-client.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';
import { logoutAtIdp } from '../helpers/idp-logout.js';
import { freePort } from '../helpers/redis-server.js';
import {
  connectRedis,
  type Redis,
  startThrowawayRedis,
  type ThrowawayRedis,
} from '../service/fixtures/redis.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from '../signin/harness.js';

/** Sent by node-redis itself on connecting, or by this test's MONITOR connection. */
const CONNECTION = new Set([
  'HELLO',
  'CLIENT',
  'PING',
  'SELECT',
  'INFO',
  'MONITOR',
  'QUIT',
  'COMMAND',
  'RESET',
]);
const SINGLE_KEY = new Set(['GET', 'SET', 'DEL', 'EXPIRE', 'PEXPIRE', 'EVAL']);

let server: ThrowawayRedis;
let redis: Redis;
let monitor: Redis;
let idp: TestIdp;
let app: SigninApp;
const commands: string[][] = [];

beforeAll(async () => {
  server = await startThrowawayRedis();
  [redis, monitor] = [await connectRedis(server.url), await connectRedis(server.url)];
  await monitor.monitor((line) => {
    // `1700000000.123456 [0 127.0.0.1:54321] "SET" "key" "value"`: the quoted words.
    commands.push([...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!));
  });
  const port = await freePort();
  idp = await startIdp({ backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout` });
  app = await startSigninApp(idp, {
    port,
    store: guardSessionStore(new RedisStore({ client: redis })),
    options: { backchannelLogout: true, refreshLock: redisTokenCache(redis) },
  });
}, 30_000);
afterAll(async () => {
  await app?.close();
  await idp?.close();
  await Promise.all([redis?.destroy(), monitor?.destroy()]);
  await server?.kill();
});

test('sign-in, refresh, back-channel logout, an agent and DPoP: single-key commands only, no KEYS or SCAN', async () => {
  const browser = new TestBrowser();
  await loginAs(browser, app);
  expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
  expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
  expect(await logoutAtIdp(idp, browser)).toEqual(['ok']);
  expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);

  const agent = serviceAgent({
    issuerBaseURL: idp.issuer,
    clientID: 'service',
    clientSecret: SERVICE_SECRET,
    audience: API_AUDIENCE,
    cache: redisTokenCache(redis),
  });
  await agent.getToken();
  await agent.close();

  const key = await dpopKey();
  const token = await boundToken(idp, key);
  const api = buildApp('express5', {
    issuerBaseURL: idp.issuer,
    audience: API_AUDIENCE,
    baseURL: API_BASE,
    dpop: { replayStore: redisDpopReplayStore(redis) },
  });
  const dpop = await proof(key, { htm: 'GET', htu: `${API_BASE}/api/me`, token });
  expect(
    (await request(api).get('/api/me').set('authorization', `DPoP ${token}`).set('dpop', dpop)).status,
  ).toBe(200);
  await redis.ping(); // MONITOR lines arrive in order: once PING is seen, all before it are in
  for (let i = 0; i < 50 && !commands.some(([name]) => name === 'PING'); i++)
    await new Promise((r) => setTimeout(r, 20));

  const data = commands.filter(([name]) => !CONNECTION.has(name!.toUpperCase()));
  const names = new Set(data.map(([name]) => name!.toUpperCase()));
  expect([...names].filter((name) => !SINGLE_KEY.has(name))).toEqual([]);
  for (const [name, ...args] of data) {
    if (name!.toUpperCase() === 'EVAL') expect(args[1]).toBe('1'); // numkeys
    if (name!.toUpperCase() === 'DEL') expect(args).toHaveLength(1);
  }
  // Every key written expires: SET with EX/PX (the release script only deletes).
  const sets = data.filter(([name]) => name!.toUpperCase() === 'SET');
  expect(sets.length).toBeGreaterThan(5);
  for (const [, key, , ...options] of sets) {
    expect({ key, expires: options.some((o) => /^(EX|PX)$/i.test(o)) }).toEqual({ key, expires: true });
  }
  if (process.env['PORTCULLIS_TEST_VERBOSE']) {
    const kinds = new Map<string, string>();
    for (const [, key, , ...options] of sets) {
      const unit = options.findIndex((o) => /^(EX|PX)$/i.test(o));
      const kind = key!.replace(/[A-Za-z0-9_+/=-]{20,}/g, '<hash>');
      const bytes = await redis.memoryUsage(key!); // null once deleted (a lock, a pending login)
      kinds.set(kind, `${options[unit]} ${options[unit + 1]}  ${bytes ?? 'gone'}`);
    }
    console.log([...kinds].map(([kind, ttl]) => `${kind}  ${ttl}`).join('\n'));
  }
});
