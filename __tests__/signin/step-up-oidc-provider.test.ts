/**
 * Step-up (RFC 9470) against oidc-provider itself, with an IdP that offers two authentication
 * levels (password, password + OTP) and prompts a new login when a request's acr_values are not met:
 * requiresAuth() sends the user back and lets the stronger login through, stops at 403 when the new
 * login still falls short, and requireAcr() after bearer() judges the IdP's real access tokens.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Express } from 'express';
import { bearer, requireAcr, requiresAuth } from '../../lib/index.js';
import { signInAtIdp } from '../helpers/browser.js';
import { API_AUDIENCE, startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

const PWD = 'urn:example:pwd';
const MFA = 'urn:example:mfa';

let idp: TestIdp;
let app: SigninApp;
let nextAcr = PWD;

beforeAll(async () => {
  idp = await startIdp({ acrValues: [PWD, MFA], loginAcr: () => nextAcr });
  app = await startSigninApp(idp, {
    options: {
      authorizationParams: { scope: 'openid profile offline_access orders:read', resource: API_AUDIENCE },
    },
    routes: (a: Express) => {
      a.get('/admin', requiresAuth({ acrValues: [MFA] }), (req, res) =>
        res.json({ acr: req.oidc.idTokenClaims?.['acr'] }),
      );
      a.get('/recent', requiresAuth({ maxAge: 1 }), (_req, res) => res.json({ recent: true }));
      a.get('/token', (req, res) => res.json({ token: req.oidc.accessToken?.access_token }));
      a.use('/api', bearer({ issuerBaseURL: idp.issuer, audience: API_AUDIENCE }));
      a.post('/api/payments', requireAcr([MFA], { maxAge: 300 }), (_req, res) => res.json({ paid: true }));
    },
  });
});
afterAll(async () => {
  await app.close();
  await idp.close();
});

async function signIn(acr: string): Promise<TestBrowser> {
  nextAcr = acr;
  const browser = new TestBrowser();
  const { result } = await loginAs(browser, app);
  expect(result.status).toBe(302);
  return browser;
}

/** The IdP's login form was shown (a step-up prompt), as opposed to a silent re-issue. */
const promptedLogin = (browser: TestBrowser) =>
  browser.history.filter((hop) => hop.method === 'POST' && hop.url.startsWith(idp.issuer)).length;

describe('requiresAuth({ acrValues }) with oidc-provider', () => {
  test('a password login is sent back with acr_values; the OTP login gets through', async () => {
    const browser = await signIn(PWD);
    const denied = await browser.get(`${app.baseURL}/admin`);
    expect(denied.status).toBe(302);
    const authorize = new URL(denied.location!);
    expect(authorize.origin).toBe(idp.issuer);
    expect(authorize.searchParams.get('acr_values')).toBe(MFA);

    nextAcr = MFA;
    const loginsBefore = promptedLogin(browser);
    const { result } = await signInAtIdp(browser, denied.location!);
    expect(promptedLogin(browser)).toBe(loginsBefore + 1); // the IdP asked again: a real step-up
    expect(result!.location).toBe(`${app.baseURL}/admin`);
    const admin = await browser.get(`${app.baseURL}/admin`);
    expect(admin.status).toBe(200);
    expect(JSON.parse(admin.body)).toEqual({ acr: MFA });
  });

  test('a step-up login that still falls short ends in 403, after exactly one trip to the IdP', async () => {
    const browser = await signIn(PWD);
    const denied = await browser.get(`${app.baseURL}/admin`);
    nextAcr = PWD; // the user cannot do better
    const { result } = await signInAtIdp(browser, denied.location!);
    const final = await browser.follow(
      result!,
      (hop) => hop.status !== 302 || !hop.location?.startsWith(app.baseURL),
    );
    expect(final.status).toBe(403);
    expect(JSON.parse(final.body).code).toBe('ERR_STEP_UP_FAILED');
    const tripsToIdp = browser.history.filter((hop) => hop.url.startsWith(`${idp.issuer}/auth?`)).length;
    expect(tripsToIdp).toBe(2); // the first login and the one step-up, never a third
  });
});

test('requiresAuth({ maxAge }) with oidc-provider: an old login is sent back with max_age and comes back fresh', async () => {
  const browser = await signIn(PWD);
  await new Promise((r) => setTimeout(r, 2100));
  const old = await browser.get(`${app.baseURL}/recent`);
  expect(old.status).toBe(302);
  expect(new URL(old.location!).searchParams.get('max_age')).toBe('1');
  const { result } = await signInAtIdp(browser, old.location!);
  expect(result!.location).toBe(`${app.baseURL}/recent`);
  expect((await browser.get(`${app.baseURL}/recent`)).status).toBe(200);
});

describe('requireAcr() after bearer(), with the access tokens oidc-provider issued', () => {
  async function pay(acr: string) {
    const browser = await signIn(acr);
    const { token } = JSON.parse((await browser.get(`${app.baseURL}/token`)).body) as { token: string };
    return fetch(`${app.baseURL}/api/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  }

  test('a password login’s token gets 401 insufficient_user_authentication with acr_values and max_age', async () => {
    const res = await pay(PWD);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="api", error="insufficient_user_authentication", error_description="the authentication context (acr) is not one the resource accepts", acr_values="${MFA}", max_age=300`,
    );
  });

  test('an OTP login’s token pays', async () => {
    const res = await pay(MFA);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ paid: true });
  });
});
