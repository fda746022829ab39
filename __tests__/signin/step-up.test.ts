/**
 * Step-up for signed-in users: requiresAuth({ acrValues, maxAge }) sends a user whose login is too
 * weak or too old back to the IdP with acr_values / max_age, lets the stronger login through, and
 * answers 403 (never another round trip) when the new login still falls short.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Express } from 'express';
import type * as jose from 'jose';
import { requiresAuth } from '../../lib/index.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';
import { type SigninApp, startSigninApp, TestBrowser } from './harness.js';

let rogue: RogueIdp;
let app: SigninApp;
beforeAll(async () => {
  rogue = await startRogueIdp();
  app = await startSigninApp(rogue, {
    options: { clientSecret: 'step-up-secret-0123456789', authorizationParams: { scope: 'openid' } },
    routes: (a: Express) => {
      a.get('/admin', requiresAuth({ acrValues: ['urn:example:mfa'] }), (_req, res) =>
        res.json({ admin: true }),
      );
      a.get('/recent', requiresAuth({ maxAge: 300 }), (_req, res) => res.json({ recent: true }));
    },
  });
});
afterAll(async () => {
  await app.close();
  await rogue.close();
});

/** Finish a login the app started (its 302 to the IdP) with an ID token carrying `claims`. */
async function finish(browser: TestBrowser, authorizeUrl: string, claims: jose.JWTPayload) {
  const url = new URL(authorizeUrl);
  const now = Math.floor(Date.now() / 1000);
  const idToken = await rogue.sign({
    iss: rogue.issuer,
    aud: 'web',
    sub: 'alice',
    nonce: url.searchParams.get('nonce')!,
    iat: now,
    exp: now + 300,
    auth_time: now,
    ...claims,
  });
  rogue.token = () => ({
    status: 200,
    body: { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: idToken },
  });
  return browser.get(
    `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state: url.searchParams.get('state')!, iss: rogue.issuer })}`,
  );
}

async function signIn(claims: jose.JWTPayload): Promise<TestBrowser> {
  const browser = new TestBrowser();
  const start = await browser.get(`${app.baseURL}/login`);
  expect((await finish(browser, start.location!, claims)).status).toBe(302);
  return browser;
}

describe('requiresAuth({ acrValues })', () => {
  test('a password login is sent back to the IdP with acr_values; the MFA login gets through', async () => {
    const browser = await signIn({ acr: 'urn:example:pwd' });
    const page = await browser.get(`${app.baseURL}/admin`);
    expect(page.status).toBe(302);
    const authorize = new URL(page.location!);
    expect(authorize.searchParams.get('acr_values')).toBe('urn:example:mfa');
    const back = await finish(browser, page.location!, { acr: 'urn:example:mfa' });
    expect(back.location).toBe(`${app.baseURL}/admin`);
    const admin = await browser.get(`${app.baseURL}/admin`);
    expect(admin.status).toBe(200);
    expect(JSON.parse(admin.body)).toEqual({ admin: true });
  });

  test('a step-up that still falls short ends in 403, not another round trip', async () => {
    const browser = await signIn({ acr: 'urn:example:pwd' });
    const page = await browser.get(`${app.baseURL}/admin`);
    await finish(browser, page.location!, { acr: 'urn:example:pwd' });
    const again = await browser.get(`${app.baseURL}/admin`);
    expect(again.status).toBe(403);
    expect(JSON.parse(again.body).code).toBe('ERR_STEP_UP_FAILED');
  });

  test('an API client gets 401 insufficient_user_authentication with the acr_values', async () => {
    const browser = await signIn({ acr: 'urn:example:pwd' });
    const res = await browser.get(`${app.baseURL}/admin`, { accept: 'application/json' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({
      error: 'insufficient_user_authentication',
      acr_values: 'urn:example:mfa',
    });
  });
});

describe('requiresAuth({ maxAge })', () => {
  test('a login older than maxAge is sent back with max_age; a fresh one gets through', async () => {
    const browser = await signIn({ auth_time: Math.floor(Date.now() / 1000) - 3600 });
    const page = await browser.get(`${app.baseURL}/recent`);
    expect(page.status).toBe(302);
    expect(new URL(page.location!).searchParams.get('max_age')).toBe('300');
    await finish(browser, page.location!, {});
    expect((await browser.get(`${app.baseURL}/recent`)).status).toBe(200);
  });

  test('bad options are a TypeError at start-up', () => {
    expect(() => requiresAuth({ acrValues: [] })).toThrow(
      'requiresAuth(): "acrValues" must be a non-empty list of strings',
    );
    expect(() => requiresAuth({ maxAge: -1 })).toThrow(
      'requiresAuth(): "maxAge" must be a whole number of seconds',
    );
  });
});
