/**
 * RP-initiated logout sends a `state`; the route the IdP returns to (routes.postLogoutCallback)
 * accepts only a state it issued to this browser, once, before redirecting to the logout's returnTo.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

let idp: TestIdp;
let app: SigninApp;
beforeAll(async () => {
  idp = await startIdp();
  app = await startSigninApp(idp, { options: { idpLogout: true } });
});
afterAll(async () => {
  await app.close();
  await idp.close();
});

/** Log in, log out, and say "yes, sign me out" on the IdP's page; returns where the IdP sends us back. */
async function logOutAtIdp(browser: TestBrowser, returnTo = '/bye'): Promise<{ end: URL; back: string }> {
  await loginAs(browser, app);
  const res = await browser.get(`${app.baseURL}/logout?returnTo=${encodeURIComponent(returnTo)}`);
  const end = new URL(res.location!);
  const confirm = await browser.get(end.href);
  const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(confirm.body)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
  if (action === undefined || xsrf === undefined) throw new Error(`no logout form: ${confirm.body}`);
  const done = await browser.post(new URL(action, idp.issuer).href, { xsrf, logout: 'yes' });
  expect(done.status).toBe(303);
  return { end, back: done.location! };
}

const bindingCookies = (browser: TestBrowser) =>
  [...(browser.jar.get('127.0.0.1')?.keys() ?? [])].filter((n) => n.startsWith('portcullis.tx'));

describe('RP-initiated logout with state', () => {
  test('the IdP comes back with the state it was sent, and the user lands on returnTo', async () => {
    const browser = new TestBrowser();
    const { end, back } = await logOutAtIdp(browser, '/bye');
    const state = end.searchParams.get('state');
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${app.baseURL}/logout/callback`);
    expect(back).toBe(`${app.baseURL}/logout/callback?state=${state}`);
    const landed = await browser.get(back);
    expect(landed.status).toBe(302);
    expect(landed.location).toBe(`${app.baseURL}/bye`);
    expect(bindingCookies(browser)).toEqual([]);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
  });

  test('a state is used once: the same return again is a 400', async () => {
    const browser = new TestBrowser();
    const { back } = await logOutAtIdp(browser);
    expect((await browser.get(back)).status).toBe(302);
    const replay = await browser.get(back);
    expect(replay.status).toBe(400);
    expect(JSON.parse(replay.body)).toEqual({
      code: 'ERR_STATE_MISMATCH',
      message:
        'the return from logout at the IdP carries a "state" this app did not issue, or that was used already or has expired; nothing was changed here: go back to the app, and log out again if you meant to',
    });
  });

  test('a state this app never issued is a 400, and lands nowhere', async () => {
    const browser = new TestBrowser();
    const forged = await browser.get(`${app.baseURL}/logout/callback?state=${'a'.repeat(43)}`);
    expect(forged.status).toBe(400);
    expect(forged.location).toBeUndefined();
    expect(JSON.parse(forged.body).code).toBe('ERR_STATE_MISMATCH');
  });

  test('a state issued to another browser is a 400', async () => {
    const { back } = await logOutAtIdp(new TestBrowser());
    const other = new TestBrowser();
    const res = await other.get(back);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      code: 'ERR_STATE_MISMATCH',
      message:
        'the return from logout at the IdP belongs to a logout started in another browser, or this browser lost its logout cookie; nothing was changed here: go back to the app, and log out again if you meant to',
    });
  });

  test('no state is a 400', async () => {
    for (const query of ['', '?state=']) {
      const res = await new TestBrowser().get(`${app.baseURL}/logout/callback${query}`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({
        code: 'ERR_STATE_MISSING',
        message:
          'the return from logout at the IdP has no "state", so this app cannot tell it started that logout; nothing was changed here: go back to the app, and log out again if you meant to',
      });
    }
  });

  test.each([
    ['two states', (s: string) => `state=${s}&state=${s}`],
    ['an overlong state', (s: string) => `state=${s}${'x'.repeat(600)}`],
  ])('%s is a 400 without touching the pending logout', async (_name, query) => {
    const browser = new TestBrowser();
    const { end, back } = await logOutAtIdp(browser);
    const state = end.searchParams.get('state')!;
    const res = await browser.get(`${app.baseURL}/logout/callback?${query(state)}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toMatch(
      /^the return from logout at the IdP has a malformed "state"/,
    );
    expect((await browser.get(back)).location).toBe(`${app.baseURL}/bye`);
  });

  test('a custom route and a logout without a session still work', async () => {
    const custom = await startSigninApp(idp, {
      options: { idpLogout: true, routes: { postLogoutCallback: '/signed-out' } },
    });
    try {
      const browser = new TestBrowser();
      await loginAs(browser, custom);
      const res = await browser.get(`${custom.baseURL}/logout`);
      const end = new URL(res.location!);
      expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${custom.baseURL}/signed-out`);
      // Signed out already: nothing to end at the IdP, no state is issued.
      const again = await browser.get(`${custom.baseURL}/logout`);
      expect(again.location).toBe(`${custom.baseURL}/`);
    } finally {
      await custom.close();
    }
  });
});
