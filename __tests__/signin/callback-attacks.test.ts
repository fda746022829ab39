/**
 * Every check of the callback, each proven by an attack that must fail: a forged or broken ID token
 * from an IdP of our own, or a tampered callback. Each test also shows the user stays signed out.
 */
import { createHash } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import { type PendingLogin, ROGUE_SECRET, useHostileSignin } from '../helpers/hostile-signin.js';
import { newRsaKey, type RogueIdp } from '../helpers/rogue-idp.js';
import { type SigninApp, startSigninApp, TestBrowser } from './harness.js';

const hostile = useHostileSignin();
const { begin, claims, answerWith, signedIn, tokenRequests } = hostile;
let rogue: RogueIdp;
let app: SigninApp;
beforeAll(() => {
  ({ rogue, app } = hostile);
});

async function callback(s: PendingLogin, params: Record<string, string> = {}) {
  const query = new URLSearchParams({
    code: 'authorization-code-xyz',
    state: s.state,
    iss: rogue.issuer,
    ...params,
  });
  return s.browser.get(`${app.baseURL}/callback?${query}`);
}

async function expectRefused(s: PendingLogin, code: string, status = 400) {
  const res = await callback(s);
  expect(res.status).toBe(status);
  expect(JSON.parse(res.body).code).toBe(code);
  expect(await signedIn(s)).toBe(false);
  return res;
}

beforeEach(() => {
  rogue.failWith = undefined;
  rogue.delay = 0;
});

describe('a valid ID token (control)', () => {
  test('signs the user in and sends the PKCE verifier that matches the challenge', async () => {
    const s = await begin();
    answerWith(await rogue.sign(claims(s.nonce)));
    const res = await callback(s);
    expect(res.status).toBe(302);
    expect(await signedIn(s)).toBe(true);
    const tokenRequest = rogue.requests.filter((r) => r.path === '/token').at(-1)!;
    const body = new URLSearchParams(tokenRequest.body);
    expect(body.get('grant_type')).toBe('authorization_code');
    expect(body.get('code')).toBe('authorization-code-xyz');
    expect(body.get('redirect_uri')).toBe(`${app.baseURL}/callback`);
    expect(body.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createHash('sha256').update(body.get('code_verifier')!).digest('base64url')).toBe(s.challenge);
    // client_secret_basic by default (RFC 6749 §2.3.1: form-encoded, then base64)
    const basic = Buffer.from(
      tokenRequest.headers.authorization!.replace(/^Basic /, ''),
      'base64',
    ).toString();
    expect(basic.split(':').map(decodeURIComponent)).toEqual(['web', ROGUE_SECRET]);
  });
});

describe('the ID token is refused when', () => {
  const cases: Array<[string, (s: PendingLogin) => Promise<string>]> = [
    ['its iss is another issuer', async (s) => rogue.sign(claims(s.nonce, { iss: 'https://evil.example' }))],
    ['its aud is another client', async (s) => rogue.sign(claims(s.nonce, { aud: 'other-client' }))],
    [
      'its azp names another client',
      async (s) => rogue.sign(claims(s.nonce, { aud: ['web', 'other'], azp: 'other' })),
    ],
    [
      'it has expired',
      async (s) => rogue.sign(claims(s.nonce, { exp: Math.floor(Date.now() / 1000) - 3600 })),
    ],
    ['its nonce is not ours', async (s) => rogue.sign(claims(`${s.nonce}x`))],
    ['it has no nonce', async (s) => rogue.sign({ ...claims(s.nonce), nonce: undefined })],
    [
      'its signature was tampered with',
      async (s) => {
        const [h, p, sig] = (await rogue.sign(claims(s.nonce))).split('.');
        return `${h}.${p}.${sig!.slice(0, -4)}${sig!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      },
    ],
    [
      'its payload was changed after signing',
      async (s) => {
        const [h, , sig] = (await rogue.sign(claims(s.nonce))).split('.');
        const forged = Buffer.from(JSON.stringify(claims(s.nonce, { sub: 'admin' }))).toString('base64url');
        return `${h}.${forged}.${sig}`;
      },
    ],
    [
      'it is signed by a key the IdP does not publish',
      async (s) => rogue.sign(claims(s.nonce), { key: { ...newRsaKey(), kid: rogue.keys[0]!.kid } }),
    ],
    [
      'it uses alg none',
      async (s) => {
        const h = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
        const p = Buffer.from(JSON.stringify(claims(s.nonce))).toString('base64url');
        return `${h}.${p}.`;
      },
    ],
    [
      'it is HS256 signed with the client secret',
      async (s) =>
        new jose.SignJWT(claims(s.nonce))
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(ROGUE_SECRET)),
    ],
    [
      'its at_hash does not match the access token',
      async (s) =>
        rogue.sign(
          claims(s.nonce, {
            at_hash: createHash('sha256').update('other').digest().subarray(0, 16).toString('base64url'),
          }),
        ),
    ],
  ];

  test.each(cases)('%s', async (_name, forge) => {
    const s = await begin();
    answerWith(await forge(s));
    await expectRefused(s, 'ERR_ID_TOKEN_INVALID');
  });

  test('alg none is refused even when the IdP advertises it', async () => {
    const before = rogue.metadata['id_token_signing_alg_values_supported'];
    rogue.metadata['id_token_signing_alg_values_supported'] = ['RS256', 'none', 'HS256'];
    try {
      // A fresh app, so that discovery reads the new metadata.
      const other = await startSigninApp(rogue, {
        options: { clientSecret: ROGUE_SECRET, authorizationParams: { scope: 'openid' } },
      });
      try {
        const browser = new TestBrowser();
        const start = new URL((await browser.get(`${other.baseURL}/login`)).location!);
        const nonce = start.searchParams.get('nonce')!;
        for (const idToken of [
          `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims(nonce))).toString('base64url')}.`,
          await new jose.SignJWT(claims(nonce))
            .setProtectedHeader({ alg: 'HS256' })
            .sign(new TextEncoder().encode(ROGUE_SECRET)),
        ]) {
          const retry = new TestBrowser();
          const s = new URL((await retry.get(`${other.baseURL}/login`)).location!);
          answerWith(
            idToken.replace(
              Buffer.from(JSON.stringify(claims(nonce))).toString('base64url'),
              Buffer.from(JSON.stringify(claims(s.searchParams.get('nonce')!))).toString('base64url'),
            ),
          );
          const res = await retry.get(
            `${other.baseURL}/callback?${new URLSearchParams({ code: 'c', state: s.searchParams.get('state')!, iss: rogue.issuer })}`,
          );
          expect(res.status).toBe(400);
          expect(JSON.parse(res.body).code).toBe('ERR_ID_TOKEN_INVALID');
        }
      } finally {
        await other.close();
      }
    } finally {
      rogue.metadata['id_token_signing_alg_values_supported'] = before;
    }
  });
});

describe('the ID token is accepted when', () => {
  test('its at_hash matches the access token', async () => {
    const s = await begin();
    const accessToken = 'the-access-token-for-at-hash';
    const atHash = createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url');
    answerWith(await rogue.sign(claims(s.nonce, { at_hash: atHash })), accessToken);
    expect((await callback(s)).status).toBe(302);
    expect(await signedIn(s)).toBe(true);
  });

  test('the IdP rotated its keys: an unknown kid refetches the JWKS at once', async () => {
    const s = await begin();
    answerWith(await rogue.sign(claims(s.nonce)));
    expect((await callback(s)).status).toBe(302);
    const rotated = newRsaKey();
    rogue.keys = [rotated];
    const jwksBefore = rogue.requests.filter((r) => r.path === '/jwks').length;
    const t = await begin();
    answerWith(await rogue.sign(claims(t.nonce), { key: rotated }));
    expect((await callback(t)).status).toBe(302);
    expect(await signedIn(t)).toBe(true);
    expect(rogue.requests.filter((r) => r.path === '/jwks').length).toBe(jwksBefore + 1);
  });
});

describe('the callback is refused when', () => {
  test('state is missing', async () => {
    const s = await begin();
    const res = await s.browser.get(
      `${app.baseURL}/callback?code=abc&iss=${encodeURIComponent(rogue.issuer)}`,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_STATE_MISSING');
  });

  test('the state was issued to another browser', async () => {
    const s = await begin();
    answerWith(await rogue.sign(claims(s.nonce)));
    const attacker = new TestBrowser();
    const res = await attacker.get(
      `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state: s.state, iss: rogue.issuer })}`,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_STATE_MISMATCH');
    expect(JSON.parse((await attacker.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
  });

  test('the iss parameter names another issuer (RFC 9207 mix-up defence)', async () => {
    const s = await begin();
    answerWith(await rogue.sign(claims(s.nonce)));
    const tokenCalls = tokenRequests();
    const res = await callback(s, { iss: 'https://evil.example' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_ISSUER_MISMATCH');
    expect(tokenRequests()).toBe(tokenCalls);
  });

  test('the iss parameter is missing although the IdP advertises it', async () => {
    const s = await begin();
    answerWith(await rogue.sign(claims(s.nonce)));
    const res = await s.browser.get(
      `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state: s.state })}`,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_ISSUER_MISMATCH');
  });

  test('the IdP answered an error (access_denied)', async () => {
    const s = await begin();
    const res = await callback(s, { error: 'access_denied', error_description: 'user said no', code: '' });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).code).toBe('ERR_AUTHORIZATION_RESPONSE');
  });

  test('the token endpoint refuses the code (invalid_grant)', async () => {
    const s = await begin();
    rogue.token = () => ({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'code expired' },
    });
    await expectRefused(s, 'ERR_OAUTH_RESPONSE');
  });

  test('a parameter is repeated', async () => {
    const s = await begin();
    const res = await s.browser.get(
      `${app.baseURL}/callback?code=a&code=b&state=${s.state}&iss=${encodeURIComponent(rogue.issuer)}`,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_CALLBACK_INVALID');
  });
});

describe('stale callbacks get a friendly redirect, not an error page', () => {
  test('a replayed callback (back button after login) redirects home and makes no token request', async () => {
    const s = await begin();
    answerWith(await rogue.sign(claims(s.nonce)));
    expect((await callback(s)).status).toBe(302);
    const tokenCalls = tokenRequests();
    const replay = await callback(s);
    expect(replay.status).toBe(302);
    expect(replay.location).toBe(`${app.baseURL}/`);
    expect(tokenRequests()).toBe(tokenCalls);
    expect(await signedIn(s)).toBe(true);
  });

  test('an unknown state redirects home without signing in', async () => {
    const s = await begin();
    answerWith(await rogue.sign(claims(s.nonce)));
    const res = await callback(s, { state: 'not-a-state-we-issued' });
    expect(res.status).toBe(302);
    expect(await signedIn(s)).toBe(false);
  });
});

describe('hostile callback input never causes a 500', () => {
  test.each([
    ['a 10 KB state', { state: 'x'.repeat(10_000) }],
    ['an empty state', { state: '' }],
    ['control characters', { state: '\u0000\u0001', code: '\r\n' }],
    ['unicode', { state: '☃'.repeat(50) }],
  ])('%s', async (_name, params) => {
    const s = await begin();
    const res = await callback(s, params as Record<string, string>);
    expect(res.status).toBeGreaterThanOrEqual(300);
    expect(res.status).toBeLessThan(500);
  });

  test('a form_post body that is too large or of the wrong type', async () => {
    const s = await begin();
    const big = await fetch(`${app.baseURL}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `state=${'a'.repeat(100_000)}`,
    });
    expect(big.status).toBe(413);
    const json = await fetch(`${app.baseURL}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ state: s.state }),
    });
    expect(json.status).toBe(400);
  });
});

describe('userinfo', () => {
  test('fetchUserInfo() refuses claims about another subject (OpenID Connect Core §5.3.2)', async () => {
    const s = await begin();
    answerWith(await rogue.sign(claims(s.nonce)));
    expect((await callback(s)).status).toBe(302);
    rogue.userinfo = () => ({ status: 200, body: { sub: 'somebody-else', email: 'x@example.test' } });
    const res = await s.browser.get(`${app.baseURL}/userinfo`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).code).toBe('ERR_USERINFO_FAILED');
    rogue.userinfo = () => ({ status: 200, body: { sub: 'mallory', email: 'm@example.test' } });
    const ok = await s.browser.get(`${app.baseURL}/userinfo`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ sub: 'mallory', email: 'm@example.test' });
  });
});
