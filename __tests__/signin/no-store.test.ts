/**
 * Pages after logout: the back button must not show a signed-in page from the browser's cache, so
 * requiresAuth() (and authRequired) answers and auth()'s own routes send `Cache-Control: no-store`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Express } from 'express';
import { signinConfig } from '../../lib/config/signin.js';
import { requiresAuth } from '../../lib/index.js';
import { type Hop, signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

let idp: TestIdp;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(async () => {
  await idp.close();
});

const cacheControl = (hop: Hop) => hop.headers['cache-control'];

const cacheableRoute = (app: Express) =>
  app.get('/cacheable', requiresAuth(), (_req, res) => {
    res.set('cache-control', 'private, max-age=60').json({ ok: true });
  });

/** Every route of auth(), through a login and an RP-initiated logout, with a failure on each. */
async function ownRouteAnswers(app: SigninApp): Promise<Record<string, Hop>> {
  const browser = new TestBrowser();
  const login = await browser.get(`${app.baseURL}/login`);
  const { result: callback } = await signInAtIdp(browser, login.location!);
  const callbackError = await browser.get(`${app.baseURL}/callback?code=abc`);
  const logoutReturnError = await browser.get(`${app.baseURL}/logout/callback?state=forged`);
  const logout = await browser.get(`${app.baseURL}/logout`);
  const state = new URL(logout.location!).searchParams.get('state')!;
  const logoutReturn = await browser.get(`${app.baseURL}/logout/callback?state=${state}`);
  const backchannel = await browser.post(`${app.baseURL}/backchannel-logout`, { logout_token: 'junk' });
  app.errors.length = 0;
  return {
    login,
    callback: callback!,
    callbackError,
    logout,
    logoutReturn,
    logoutReturnError,
    backchannel,
  };
}

describe('with the default (noStore on)', () => {
  let app: SigninApp;
  beforeAll(async () => {
    app = await startSigninApp(idp, {
      options: { idpLogout: true, backchannelLogout: true },
      routes: cacheableRoute,
    });
  });
  afterAll(async () => {
    await app.close();
  });

  test('a requiresAuth() page is sent with no-store; a public page is left alone', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    const page = await browser.get(`${app.baseURL}/profile`);
    expect(page.status).toBe(200);
    expect(cacheControl(page)).toBe('no-store');
    expect(cacheControl(await browser.get(`${app.baseURL}/me`))).toBeUndefined();
  });

  test('a route behind requiresAuth() may still choose its own Cache-Control', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    expect(cacheControl(await browser.get(`${app.baseURL}/cacheable`))).toBe('private, max-age=60');
  });

  test("auth()'s own routes send no-store, the app's error pages for them included", async () => {
    const answers = await ownRouteAnswers(app);
    expect(Object.fromEntries(Object.entries(answers).map(([k, hop]) => [k, hop.status]))).toEqual({
      login: 302,
      callback: 302,
      callbackError: 400,
      logout: 302,
      logoutReturn: 302,
      logoutReturnError: 400,
      backchannel: 400,
    });
    for (const [name, hop] of Object.entries(answers))
      expect([name, cacheControl(hop)]).toEqual([name, 'no-store']);
  });
});

describe('with authRequired', () => {
  test('every signed-in page is sent with no-store, unless noStore is off', async () => {
    const on = await startSigninApp(idp, { options: { authRequired: true } });
    const off = await startSigninApp(idp, { options: { authRequired: true, noStore: false } });
    try {
      for (const [app, expected] of [
        [on, 'no-store'],
        [off, undefined],
      ] as const) {
        const browser = new TestBrowser();
        await loginAs(browser, app);
        const me = await browser.get(`${app.baseURL}/me`);
        expect(me.status).toBe(200);
        expect(cacheControl(me)).toBe(expected);
      }
    } finally {
      await on.close();
      await off.close();
    }
  });
});

describe('with noStore: false', () => {
  let app: SigninApp;
  beforeAll(async () => {
    app = await startSigninApp(idp, {
      options: { idpLogout: true, backchannelLogout: true, noStore: false },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  test('requiresAuth() pages are left to the app', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    const page = await browser.get(`${app.baseURL}/profile`);
    expect(page.status).toBe(200);
    expect(cacheControl(page)).toBeUndefined();
  });

  test("auth()'s own routes still send no-store", async () => {
    for (const hop of Object.values(await ownRouteAnswers(app))) expect(cacheControl(hop)).toBe('no-store');
  });
});

describe('the noStore option', () => {
  const valid = {
    issuerBaseURL: 'https://idp.example.com',
    baseURL: 'https://app.example.com',
    clientID: 'app',
    clientSecret: 'secret',
  };

  test('is on by default, and may come from NO_STORE', () => {
    expect(signinConfig(valid, {}).noStore).toBe(true);
    expect(signinConfig(valid, { NO_STORE: 'false' }).noStore).toBe(false);
    expect(signinConfig({ ...valid, noStore: true }, { NO_STORE: 'false' }).noStore).toBe(true);
  });

  test('must be a boolean', () => {
    expect(() => signinConfig({ ...valid, noStore: 'no' as unknown as boolean }, {})).toThrow(
      new TypeError('"noStore" must be a boolean'),
    );
  });
});
