/**
 * Every check of a JWT response (JARM), each proven by an answer that must be refused: from an IdP of
 * our own that signs what a test asks, advertises `none` and HS256 for JWT responses, and counts token
 * requests. A refused answer is a 400 with a stable code, makes no token request, and leaves the
 * pending login unused (its `state` was never read): the genuine answer still completes it.
 */
import { beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import { type PendingLogin, ROGUE_SECRET, useHostileSignin } from '../helpers/hostile-signin.js';
import { newRsaKey, type RogueIdp } from '../helpers/rogue-idp.js';
import type { SigninApp } from './harness.js';

const CODE = 'authorization-code-xyz';
// A hostile IdP says it signs JWT responses with `none` and HS256 too: neither may be accepted.
const hostile = useHostileSignin({
  authorizationParams: { response_mode: 'jwt' },
  metadata: { authorization_signing_alg_values_supported: ['RS256', 'HS256', 'none'] },
});
const { claims, answerWith, signedIn, tokenRequests } = hostile;
let rogue: RogueIdp;
let app: SigninApp;
beforeAll(() => {
  ({ rogue, app } = hostile);
});

const now = () => Math.floor(Date.now() / 1000);

async function begin(): Promise<PendingLogin> {
  const s = await hostile.begin();
  expect(s.url.searchParams.get('response_mode')).toBe('jwt');
  return s;
}

/** The claims of a genuine JWT response to this login, with `extra` over them. */
function answer(s: PendingLogin, extra: Record<string, unknown> = {}): jose.JWTPayload {
  return {
    iss: rogue.issuer,
    aud: 'web',
    exp: now() + 300,
    code: CODE,
    state: s.state,
    ...extra,
  } as jose.JWTPayload;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function callback(s: PendingLogin, response: string, extra: Record<string, string> = {}) {
  const query = new URLSearchParams({ response, ...extra });
  return s.browser.get(`${app.baseURL}/callback?${query}`);
}

/** The IdP's token endpoint answers with a valid ID token for this login. */
async function tokensFor(s: PendingLogin): Promise<void> {
  answerWith(await rogue.sign(claims(s.nonce)));
}

beforeEach(() => {
  rogue.token = () => ({ status: 400, body: { error: 'invalid_grant' } });
});

test('control: a genuine JWT response signs the user in, with the code it holds', async () => {
  const s = await begin();
  await tokensFor(s);
  const before = tokenRequests();
  const res = await callback(s, await rogue.sign(answer(s)));
  expect(res.status).toBe(302);
  expect(tokenRequests()).toBe(before + 1);
  const sent = new URLSearchParams(rogue.requests.filter((r) => r.path === '/token').at(-1)!.body);
  expect(sent.get('code')).toBe(CODE);
  expect(await signedIn(s)).toBe(true);
});

describe('a JWT response is refused (400 ERR_JARM_INVALID, no token request, the login left unused) when', () => {
  const stranger = newRsaKey();
  const cases: Array<[string, (s: PendingLogin) => Promise<string>, RegExp]> = [
    [
      'it is signed by a key the IdP does not publish, under the kid of one it does',
      async (s) => rogue.sign(answer(s), { key: { ...stranger, kid: rogue.keys[0]!.kid } }),
      /its signature does not verify with the IdP's keys/,
    ],
    [
      'its payload was changed after signing',
      async (s) => {
        const [header, , signature] = (await rogue.sign(answer(s, { code: 'other' }))).split('.');
        return `${header}.${b64(answer(s))}.${signature}`;
      },
      /its signature does not verify/,
    ],
    [
      'its aud is another client',
      async (s) => rogue.sign(answer(s, { aud: 'other-client' })),
      /its "aud" is not this client \("web"\)/,
    ],
    [
      'its iss is another issuer',
      async (s) => rogue.sign(answer(s, { iss: 'https://evil.example' })),
      /its "iss" is not the IdP's issuer/,
    ],
    [
      'it has expired',
      async (s) => rogue.sign(answer(s, { exp: now() - 3600 })),
      /its "exp" says it has expired/,
    ],
    ['it has no exp', async (s) => rogue.sign(answer(s, { exp: undefined })), /it has no "exp" claim/],
    [
      'it is unsigned (alg none), although the IdP advertises none',
      async (s) => `${b64({ alg: 'none' })}.${b64(answer(s))}.`,
      /its "alg" is not an asymmetric JWS algorithm/,
    ],
    [
      'it is HS256 signed with the client secret, although the IdP advertises HS256',
      async (s) =>
        new jose.SignJWT(answer(s))
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(ROGUE_SECRET)),
      /its "alg" is not an asymmetric JWS algorithm/,
    ],
    ['it is not a JWT at all', async () => 'not-a-jwt', /the "response" parameter is not a JWT/],
  ];

  test.each(cases)('%s', async (_name, forge, message) => {
    const s = await begin();
    const before = tokenRequests();
    const res = await callback(s, await forge(s));
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.code).toBe('ERR_JARM_INVALID');
    expect(body.message).toMatch(
      /^the IdP's JWT response \(JARM\) was refused before any of its parameters was used: /,
    );
    expect(body.message).toMatch(message);
    expect(tokenRequests()).toBe(before);
    expect(await signedIn(s)).toBe(false);
    // The forged answer never reached the pending login: the genuine one still finishes it.
    await tokensFor(s);
    expect((await callback(s, await rogue.sign(answer(s)))).status).toBe(302);
    expect(tokenRequests()).toBe(before + 1);
    expect(await signedIn(s)).toBe(true);
  });

  test('it comes as form_post.jwt (POST) and is forged', async () => {
    const s = await begin();
    const before = tokenRequests();
    const forged = await rogue.sign(answer(s), { key: { ...stranger, kid: rogue.keys[0]!.kid } });
    const res = await s.browser.post(`${app.baseURL}/callback`, { response: forged });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_JARM_INVALID');
    expect(tokenRequests()).toBe(before);
  });
});

describe('a login that asked for a JWT response refuses plain parameters (400 ERR_JARM_MISSING, no token request)', () => {
  test('a code and state', async () => {
    const s = await begin();
    const before = tokenRequests();
    const query = new URLSearchParams({ code: CODE, state: s.state, iss: rogue.issuer });
    const res = await s.browser.get(`${app.baseURL}/callback?${query}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      code: 'ERR_JARM_MISSING',
      message:
        'this login asked the IdP for a JWT response (response_mode "jwt"), but the callback carries plain parameters: refused, since only a signed response is trusted. If the IdP does not support JARM, set "authorizationParams.response_mode" to "query" or "form_post"; otherwise start again from the login page',
    });
    expect(tokenRequests()).toBe(before);
    expect(await signedIn(s)).toBe(false);
  });

  test('a plain error is shown as an unverified hint, and refused all the same', async () => {
    const s = await begin();
    const query = new URLSearchParams({ error: 'unsupported_response_mode', state: s.state });
    const res = await s.browser.get(`${app.baseURL}/callback?${query}`);
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.code).toBe('ERR_JARM_MISSING');
    expect(body.message).toContain('(it says error "unsupported_response_mode", unverified)');
  });
});

test('an IdP error inside a valid JWT response is handled like a plain error response, with no token request', async () => {
  const s = await begin();
  const before = tokenRequests();
  const res = await callback(s, await rogue.sign(answer(s, { code: undefined, error: 'access_denied' })));
  expect(res.status).toBe(403);
  expect(JSON.parse(res.body)).toEqual({
    code: 'ERR_AUTHORIZATION_RESPONSE',
    message: 'the IdP answered "access_denied"',
  });
  expect(tokenRequests()).toBe(before);
});

test('parameters beside the JWT are ignored: only the code inside it is exchanged', async () => {
  const s = await begin();
  await tokensFor(s);
  const res = await callback(s, await rogue.sign(answer(s)), { code: 'injected-code', state: 'other' });
  expect(res.status).toBe(302);
  const sent = new URLSearchParams(rogue.requests.filter((r) => r.path === '/token').at(-1)!.body);
  expect(sent.get('code')).toBe(CODE);
});

test('a JWT response whose state is not ours is refused after its checks, like a plain one', async () => {
  const s = await begin();
  const before = tokenRequests();
  const res = await callback(s, await rogue.sign(answer(s, { state: 'x'.repeat(600) })));
  expect(res.status).toBe(400);
  expect(JSON.parse(res.body).code).toBe('ERR_STATE_MISMATCH');
  expect(tokenRequests()).toBe(before);
});
