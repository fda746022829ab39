/**
 * The mix-up attack (RFC 9700 §4.4) against an app with two providers: `a`, an IdP of our own that
 * does not support RFC 9207 (it could be the attacker's), and `b`, a real oidc-provider. The victim
 * starts a login at `a`; the attacker brings the victim's browser a real authorization code from `b`.
 * Every attempt must be refused before the code is sent to any token endpoint, and the user must stay
 * signed out. Every call the app makes to an IdP goes through a counting `fetch`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import type * as jose from 'jose';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';
import { type SigninApp, startProvidersApp, TestBrowser } from './harness.js';

const SECRET = 'rogue-client-secret-0123456789abcdef';
let a: RogueIdp;
let b: TestIdp;
let app: SigninApp;
const called: string[] = [];

beforeAll(async () => {
  [a, b] = await Promise.all([startRogueIdp(), startIdp()]);
  a.metadata['authorization_response_iss_parameter_supported'] = false;
  app = await startProvidersApp(
    { a, b },
    {
      provider: (id) =>
        id === 'a' ? { clientSecret: SECRET, authorizationParams: { scope: 'openid' } } : {},
      options: {
        fetch: (input, init) => {
          called.push(String(input instanceof Request ? input.url : input));
          return fetch(input, init);
        },
      },
    },
  );
});
afterAll(async () => {
  await app.close();
  await Promise.all([a.close(), b.close()]);
});
beforeEach(() => {
  a.token = () => ({ status: 400, body: { error: 'invalid_grant' } });
});

interface Attack {
  browser: TestBrowser;
  /** The victim's login at `a`: its state and nonce. */
  stateA: string;
  nonceA: string;
  /** A real answer of `b` for this browser: its code and `iss`. */
  codeB: string;
  issB: string;
}

/** The victim's browser holds a pending login at `a`, and the attacker has a real code from `b`. */
async function prepare(): Promise<Attack> {
  const browser = new TestBrowser();
  const atB = await browser.get(`${app.baseURL}/login?provider=b`);
  const { callback } = await signInAtIdp(browser, atB.location!, { stopAtCallback: true });
  const fromB = new URL(callback.url);
  expect(fromB.pathname).toBe('/callback/b');
  const atA = new URL((await browser.get(`${app.baseURL}/login?provider=a`)).location!);
  expect(atA.origin).toBe(a.issuer);
  return {
    browser,
    stateA: atA.searchParams.get('state')!,
    nonceA: atA.searchParams.get('nonce')!,
    codeB: fromB.searchParams.get('code')!,
    issB: fromB.searchParams.get('iss')!,
  };
}

async function deliver(attack: Attack, path: string, params: Record<string, string>) {
  called.length = 0;
  const tokenCallsAtA = a.requests.filter((r) => r.path === '/token').length;
  const res = await attack.browser.get(`${app.baseURL}${path}?${new URLSearchParams(params)}`);
  const me = JSON.parse((await attack.browser.get(`${app.baseURL}/me`)).body);
  return {
    status: res.status,
    body: JSON.parse(res.body || '{}') as { code?: string; message?: string },
    signedIn: me.authenticated as boolean,
    tokenRequests: called.filter((url) => url.endsWith('/token')).length,
    tokenRequestsAtA: a.requests.filter((r) => r.path === '/token').length - tokenCallsAtA,
  };
}

describe('a code from b delivered to a login started at a', () => {
  test("b only ever sends the browser to b's own callback path", async () => {
    const browser = new TestBrowser();
    const start = new URL((await browser.get(`${app.baseURL}/login?provider=b`)).location!);
    expect(start.searchParams.get('redirect_uri')).toBe(`${app.baseURL}/callback/b`);
    start.searchParams.set('redirect_uri', `${app.baseURL}/callback/a`);
    const refused = await browser.get(start.href);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatch(/redirect_uri/);
  });

  test("at b's callback path, without iss: refused before any token request (distinct redirect URIs)", async () => {
    const attack = await prepare();
    const res = await deliver(attack, '/callback/b', { code: attack.codeB, state: attack.stateA });
    expect(res).toMatchObject({ status: 400, body: { code: 'ERR_ISSUER_MISMATCH' }, signedIn: false });
    expect(res.body.message).toMatch(/started with provider "a"/);
    expect(res.tokenRequests).toBe(0);
    expect(res.tokenRequestsAtA).toBe(0);
  });

  test("at b's callback path, with b's iss: refused the same way", async () => {
    const attack = await prepare();
    const res = await deliver(attack, '/callback/b', {
      code: attack.codeB,
      state: attack.stateA,
      iss: attack.issB,
    });
    expect(res).toMatchObject({ status: 400, body: { code: 'ERR_ISSUER_MISMATCH' }, signedIn: false });
    expect(res.tokenRequests).toBe(0);
  });

  test("at a's callback path with b's iss (RFC 9207): refused, naming b", async () => {
    const attack = await prepare();
    const res = await deliver(attack, '/callback/a', {
      code: attack.codeB,
      state: attack.stateA,
      iss: attack.issB,
    });
    expect(res).toMatchObject({ status: 400, body: { code: 'ERR_ISSUER_MISMATCH' }, signedIn: false });
    expect(res.body.message).toMatch(/provider "b"/);
    expect(res.tokenRequests).toBe(0);
    expect(res.tokenRequestsAtA).toBe(0);
  });

  test('at the shared callback route, with no provider in the path: refused', async () => {
    const attack = await prepare();
    const res = await deliver(attack, '/callback', { code: attack.codeB, state: attack.stateA });
    expect(res).toMatchObject({ status: 400, body: { code: 'ERR_ISSUER_MISMATCH' }, signedIn: false });
    expect(res.tokenRequests).toBe(0);
  });
});

describe("the ID token's iss", () => {
  /** `a` answers with an ID token that `b` signed (its public key copied into a's JWKS, as an attacker can). */
  async function answerWithTokenOf(issuer: string, nonce: string): Promise<void> {
    const signing = b.signingKeys[0]!;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = signing;
    if (!a.keys.some((k) => k.kid === signing.kid)) {
      a.keys.push({ kid: signing.kid!, privateJwk: signing, publicJwk: publicJwk as jose.JWK });
    }
    const now = Math.floor(Date.now() / 1000);
    const idToken = await b.sign({ iss: issuer, aud: 'web', sub: 'alice', nonce, iat: now, exp: now + 300 });
    a.token = () => ({
      status: 200,
      body: { access_token: 'at-from-a', token_type: 'Bearer', expires_in: 300, id_token: idToken },
    });
  }

  test("an ID token with b's iss, from a login at a, is a mix-up: refused", async () => {
    const attack = await prepare();
    await answerWithTokenOf(b.issuer, attack.nonceA);
    const res = await deliver(attack, '/callback/a', { code: attack.codeB, state: attack.stateA });
    expect(res).toMatchObject({ status: 400, body: { code: 'ERR_ISSUER_MISMATCH' }, signedIn: false });
    expect(res.body.message).toMatch(/ID token's "iss" is the issuer of provider "b"/);
  });

  test('an ID token with a foreign iss stays an invalid ID token (control)', async () => {
    const attack = await prepare();
    await answerWithTokenOf('https://evil.example', attack.nonceA);
    const res = await deliver(attack, '/callback/a', { code: attack.codeB, state: attack.stateA });
    expect(res).toMatchObject({ status: 400, body: { code: 'ERR_ID_TOKEN_INVALID' }, signedIn: false });
  });

  test("a's own ID token signs the user in at a (control)", async () => {
    const attack = await prepare();
    const now = Math.floor(Date.now() / 1000);
    const idToken = await a.sign({
      iss: a.issuer,
      aud: 'web',
      sub: 'mallory',
      nonce: attack.nonceA,
      iat: now,
      exp: now + 300,
    });
    a.token = () => ({
      status: 200,
      body: { access_token: 'x', token_type: 'Bearer', expires_in: 300, id_token: idToken },
    });
    const res = await deliver(attack, '/callback/a', { code: 'a-code', state: attack.stateA });
    expect(res).toMatchObject({ status: 302, signedIn: true, tokenRequestsAtA: 1 });
  });
});
