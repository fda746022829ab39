/**
 * OpenID Connect Back-Channel Logout 1.0: the IdP's logout token ends the sessions it names, by sid
 * or by sub, in the session store; every rule of §2.6 refuses a bad token with 400.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';
import { type SigninApp, startSigninApp, TestBrowser } from './harness.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let rogue: RogueIdp;
let app: SigninApp;
beforeAll(async () => {
  rogue = await startRogueIdp();
  app = await startSigninApp(rogue, {
    options: {
      clientSecret: 'bcl-secret-0123456789abcdef',
      backchannelLogout: true,
      authorizationParams: { scope: 'openid' },
    },
  });
});
afterAll(async () => {
  await app.close();
  await rogue.close();
});

async function signIn(sub: string, sid: string): Promise<TestBrowser> {
  const browser = new TestBrowser();
  const url = new URL((await browser.get(`${app.baseURL}/login`)).location!);
  const now = Math.floor(Date.now() / 1000);
  const idToken = await rogue.sign({
    iss: rogue.issuer,
    aud: 'web',
    sub,
    sid,
    nonce: url.searchParams.get('nonce')!,
    iat: now,
    exp: now + 300,
  });
  rogue.token = () => ({
    status: 200,
    body: { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: idToken },
  });
  await browser.get(
    `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state: url.searchParams.get('state')!, iss: rogue.issuer })}`,
  );
  expect(await signedIn(browser)).toBe(true);
  return browser;
}

async function signedIn(browser: TestBrowser): Promise<boolean> {
  return JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated;
}

function logoutClaims(extra: jose.JWTPayload = {}): jose.JWTPayload {
  return {
    iss: rogue.issuer,
    aud: 'web',
    iat: Math.floor(Date.now() / 1000),
    jti: randomUUID(),
    events: { [EVENT]: {} },
    ...extra,
  };
}

async function post(token: string) {
  return fetch(`${app.baseURL}/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }),
  });
}

describe('a valid logout token', () => {
  test("with a sid ends that IdP session's login only", async () => {
    const phone = await signIn('alice', 'sid-phone');
    const laptop = await signIn('alice', 'sid-laptop');
    const res = await post(
      await rogue.sign(logoutClaims({ sid: 'sid-phone', sub: 'alice' }), { header: { typ: 'logout+jwt' } }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await signedIn(phone)).toBe(false);
    expect(await signedIn(laptop)).toBe(true);
  });

  test("with only a sub ends every login of that user, and no one else's", async () => {
    const a1 = await signIn('carol', 'c1');
    const a2 = await signIn('carol', 'c2');
    const other = await signIn('dave', 'd1');
    expect((await post(await rogue.sign(logoutClaims({ sub: 'carol' })))).status).toBe(200);
    expect(await signedIn(a1)).toBe(false);
    expect(await signedIn(a2)).toBe(false);
    expect(await signedIn(other)).toBe(true);
  });

  test('replayed (same jti) is refused', async () => {
    await signIn('erin', 'e1');
    const token = await rogue.sign(logoutClaims({ sub: 'erin' }));
    expect((await post(token)).status).toBe(200);
    const again = await post(token);
    expect(again.status).toBe(400);
    expect((await again.json()).error).toBe('invalid_request');
  });
});

describe('a logout token is refused (400) and ends nothing when', () => {
  test.each<[string, () => Promise<string>]>([
    ['it carries a nonce', () => rogue.sign(logoutClaims({ sub: 'frank', nonce: 'n' }))],
    ['it has no events claim', () => rogue.sign({ ...logoutClaims({ sub: 'frank' }), events: undefined })],
    [
      'its events lack the back-channel logout member',
      () => rogue.sign(logoutClaims({ sub: 'frank', events: { other: {} } })),
    ],
    ['it is for another client', () => rogue.sign(logoutClaims({ sub: 'frank', aud: 'another-client' }))],
    [
      'it is from another issuer',
      () => rogue.sign(logoutClaims({ sub: 'frank', iss: 'https://evil.example' })),
    ],
    ['it names neither sid nor sub', () => rogue.sign(logoutClaims())],
    [
      'it has no jti',
      () => {
        const { jti: _jti, ...rest } = logoutClaims({ sub: 'frank' });
        return rogue.sign(rest);
      },
    ],
    [
      'it is unsigned (alg none)',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(logoutClaims({ sub: 'frank' }))).toString('base64url')}.`,
    ],
    [
      'it is HS256 with the client secret',
      () =>
        new jose.SignJWT(logoutClaims({ sub: 'frank' }))
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode('bcl-secret-0123456789abcdef')),
    ],
    [
      'it is an ID token (with a nonce, no events)',
      () =>
        rogue.sign({
          iss: rogue.issuer,
          aud: 'web',
          sub: 'frank',
          nonce: 'x',
          iat: Math.floor(Date.now() / 1000),
          exp: Math.floor(Date.now() / 1000) + 60,
        }),
    ],
  ])('%s', async (_name, make) => {
    const frank = await signIn('frank', `f-${randomUUID()}`);
    const res = await post(await make());
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('invalid_request');
    expect(await signedIn(frank)).toBe(true);
  });

  test('the body is not a form with one logout_token', async () => {
    const json = await fetch(`${app.baseURL}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(400);
    const none = await fetch(`${app.baseURL}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x=1',
    });
    expect(none.status).toBe(400);
  });
});
