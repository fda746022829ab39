/**
 * Back-channel logout with the real oidc-provider: the user logs out at the IdP, the IdP POSTs its
 * logout token (with sid) to the app, and the app's session ends, also when the sessions live in
 * Redis and the POST reaches another process than the one the user logged in through.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { RedisStore } from 'connect-redis';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { logoutAtIdp } from '../helpers/idp-logout.js';
import { connectRedis, deleteKeys, uniquePrefix } from '../service/fixtures/redis.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

/** The client's backchannel_logout_uri is fixed when the IdP starts: reserve the app's port first. */
function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as { port: number };
      probe.close(() => resolve(p));
    });
  });
}

let idp: TestIdp;
let app: SigninApp;
beforeAll(async () => {
  const port = await freePort();
  idp = await startIdp({ backchannelLogoutUri: `http://127.0.0.1:${port}/backchannel-logout` });
  app = await startSigninApp(idp, { options: { backchannelLogout: true }, port });
});
afterAll(async () => {
  await app.close();
  await idp.close();
});

test('logging out at the IdP ends the session in the app', async () => {
  const browser = new TestBrowser();
  await loginAs(browser, app);
  const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
  expect(me.authenticated).toBe(true);
  expect(typeof me.claims.sid).toBe('string');

  expect(await logoutAtIdp(idp, browser)).toEqual(['ok']);
  expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
});

test('sessions in Redis: the logout token reaches one process, the session made by another ends', async () => {
  const prefix = `${uniquePrefix()}sess:`;
  const [redisA, redisB] = [await connectRedis(), await connectRedis()];
  const portB = await freePort();
  const fleetIdp = await startIdp({ backchannelLogoutUri: `http://127.0.0.1:${portB}/backchannel-logout` });
  const options = { backchannelLogout: true };
  const a = await startSigninApp(fleetIdp, { options, store: new RedisStore({ client: redisA, prefix }) });
  const b = await startSigninApp(fleetIdp, {
    options,
    store: new RedisStore({ client: redisB, prefix }),
    port: portB,
  });
  try {
    const browser = new TestBrowser();
    await loginAs(browser, a);
    const { sessionID } = JSON.parse((await browser.get(`${a.baseURL}/me`)).body) as { sessionID: string };
    expect(await redisA.exists(`${prefix}${sessionID}`)).toBe(1);

    expect(await logoutAtIdp(fleetIdp, browser)).toEqual(['ok']); // delivered to process B
    expect(await redisA.exists(`${prefix}${sessionID}`)).toBe(0);
    expect(JSON.parse((await browser.get(`${a.baseURL}/me`)).body).authenticated).toBe(false);
  } finally {
    await a.close();
    await b.close();
    await fleetIdp.close();
    await deleteKeys(redisA, `${prefix}*`);
    await Promise.all([redisA.close(), redisB.close()]);
  }
});
