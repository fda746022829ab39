/**
 * Back-channel logout with two providers (two real oidc-provider instances): a logout token ends only
 * sessions of the provider that signed it. The same `sub` at two IdPs is two users; a token sent to
 * another provider's path is refused.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { type SigninApp, startProvidersApp, TestBrowser } from './harness.js';

/** The clients' backchannel_logout_uri is fixed when the IdPs start: reserve the app's port first. */
function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as { port: number };
      probe.close(() => resolve(p));
    });
  });
}

let corp: TestIdp;
let partner: TestIdp;
let app: SigninApp;
beforeAll(async () => {
  const port = await freePort();
  const uri = (id: string) => `http://127.0.0.1:${port}/backchannel-logout/${id}`;
  [corp, partner] = await Promise.all([
    startIdp({ backchannelLogoutUri: uri('corp') }),
    startIdp({ backchannelLogoutUri: uri('partner') }),
  ]);
  app = await startProvidersApp({ corp, partner }, { options: { backchannelLogout: true }, port });
});
afterAll(async () => {
  await app.close();
  await Promise.all([corp.close(), partner.close()]);
});

async function signedInAt(provider: string, login = 'alice'): Promise<TestBrowser> {
  const browser = new TestBrowser();
  const start = await browser.get(`${app.baseURL}/login?provider=${provider}`);
  await signInAtIdp(browser, start.location!, { login });
  expect(await signedIn(browser)).toBe(true);
  return browser;
}

async function signedIn(browser: TestBrowser): Promise<boolean> {
  return JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated;
}

/** A logout token signed by `idp` for the `web` client, naming `claims` (`sub` and/or `sid`). */
function logoutToken(idp: TestIdp, claims: Record<string, string>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return idp.sign(
    {
      iss: idp.issuer,
      aud: 'web',
      iat: now,
      exp: now + 120,
      jti: `jti-${Math.random().toString(36).slice(2)}`,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      ...claims,
    },
    { typ: 'logout+jwt' },
  );
}

const post = (path: string, token: string) =>
  fetch(`${app.baseURL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }),
  });

test("logging out at partner's own page ends the partner session, not corp's", async () => {
  const atCorp = await signedInAt('corp');
  const atPartner = await signedInAt('partner');
  const delivered: string[] = [];
  partner.provider.on('backchannel.success', () => delivered.push('ok'));
  const page = await atPartner.get(`${partner.issuer}/session/end?client_id=web`);
  const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
  await atPartner.post(new URL(action!, partner.issuer).href, { xsrf: xsrf!, logout: 'yes' });
  expect(delivered).toEqual(['ok']);
  expect(await signedIn(atPartner)).toBe(false);
  expect(await signedIn(atCorp)).toBe(true);
});

test("the same sub at two IdPs is two users: a logout token from partner leaves corp's alice alone", async () => {
  const atCorp = await signedInAt('corp', 'alice');
  const atPartner = await signedInAt('partner', 'alice');
  const res = await post('/backchannel-logout/partner', await logoutToken(partner, { sub: 'alice' }));
  expect(res.status).toBe(200);
  expect(await signedIn(atPartner)).toBe(false);
  expect(await signedIn(atCorp)).toBe(true);
});

test("partner's logout token at corp's path is refused, and ends nothing", async () => {
  const atCorp = await signedInAt('corp', 'alice');
  const res = await post('/backchannel-logout/corp', await logoutToken(partner, { sub: 'alice' }));
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  expect(await signedIn(atCorp)).toBe(true);
});

test("a logout token at the shared path, or at an unknown provider's, is refused", async () => {
  const atCorp = await signedInAt('corp', 'alice');
  for (const path of ['/backchannel-logout', '/backchannel-logout/nobody']) {
    const res = await post(path, await logoutToken(corp, { sub: 'alice' }));
    expect(res.status).toBe(400);
  }
  expect(await signedIn(atCorp)).toBe(true);
});
