/**
 * Back-channel logout with the real oidc-provider: the user logs out at the IdP, the IdP POSTs its
 * logout token (with sid) to the app, and the app's session ends.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

let idp: TestIdp;
let app: SigninApp;
beforeAll(async () => {
  // The client's backchannel_logout_uri is fixed when the IdP starts: reserve the app's port first.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as { port: number };
      probe.close(() => resolve(p));
    });
  });
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

  const delivered: string[] = [];
  idp.provider.on('backchannel.success', () => delivered.push('ok'));
  idp.provider.on('backchannel.error', (_ctx, err) => delivered.push(String((err as Error).message)));

  // The IdP's own logout page, confirmed as the user would.
  const page = await browser.get(`${idp.issuer}/session/end?client_id=web`);
  const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
  expect(action !== undefined && xsrf !== undefined).toBe(true);
  await browser.post(new URL(action!, idp.issuer).href, { xsrf: xsrf!, logout: 'yes' });

  expect(delivered).toEqual(['ok']);
  expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
});
