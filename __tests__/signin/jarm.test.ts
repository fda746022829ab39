/**
 * JARM: `response_mode` `jwt`, `query.jwt` and `form_post.jwt` against oidc-provider with
 * `features.jwtResponseModes`: the IdP signs the whole authorization response, and the login completes
 * from the JWT alone. The refusals of forged ones are in jarm-attacks.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import type { AuthOptions, ResponseMode } from '../../lib/index.js';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { startSigninApp, TestBrowser } from './harness.js';

let idp: TestIdp;
beforeAll(async () => {
  idp = await startIdp({ jwtResponseModes: true, requestObjects: true });
});
afterAll(async () => {
  await idp.close();
});

async function withApp(options: Partial<AuthOptions>, run: (baseURL: string) => Promise<void>) {
  const app = await startSigninApp(idp, {
    options,
    routes: (app) => {
      app.get('/silent', (_req, res) => {
        void res.oidc.login({ returnTo: '/me', authorizationParams: { prompt: 'none' } });
      });
    },
  });
  try {
    await run(app.baseURL);
  } finally {
    await app.close();
  }
}

/** The claims of the IdP's JWT response, after checking who signed it for whom. */
function jwtResponse(response: string | undefined, aud = 'web'): jose.JWTPayload {
  expect(response).toEqual(expect.any(String));
  expect(jose.decodeProtectedHeader(response!).alg).toBe('RS256');
  const claims = jose.decodeJwt(response!);
  expect(claims).toMatchObject({
    iss: idp.issuer,
    aud,
    code: expect.any(String),
    state: expect.any(String),
  });
  expect(claims.exp).toEqual(expect.any(Number));
  return claims;
}

describe.each<[ResponseMode, 'GET' | 'POST']>([
  ['jwt', 'GET'],
  ['query.jwt', 'GET'],
  ['form_post.jwt', 'POST'],
])('response_mode %s', (mode, method) => {
  test(`the IdP answers with one signed JWT (${method}), and the login completes from it`, async () => {
    await withApp(
      { authorizationParams: { scope: 'openid email', response_mode: mode } },
      async (baseURL) => {
        const browser = new TestBrowser();
        const start = await browser.get(`${baseURL}/login?returnTo=/me`);
        expect(new URL(start.location!).searchParams.get('response_mode')).toBe(mode);
        const { callback, result } = await signInAtIdp(browser, start.location!);
        expect(callback.method).toBe(method);
        const params =
          method === 'GET' ? Object.fromEntries(new URL(callback.url).searchParams) : callback.form!;
        // Only the JWT: no code, state or iss beside it.
        expect(Object.keys(params)).toEqual(['response']);
        jwtResponse(params['response']);
        expect(result!.status).toBe(302);
        expect(result!.location).toBe(`${baseURL}/me`);
        const me = JSON.parse((await browser.get(`${baseURL}/me`)).body);
        expect(me).toMatchObject({ authenticated: true, user: { sub: 'alice' } });
      },
    );
  });
});

test('with JAR and PAR too: the request is signed by the app, the answer by the IdP', async () => {
  const options: Partial<AuthOptions> = {
    clientID: 'web-jwt',
    clientSecret: undefined,
    clientAssertionSigningKey: idp.clientKey.pem,
    requestObject: true,
    pushedAuthorizationRequests: true,
    authorizationParams: { scope: 'openid', response_mode: 'jwt' },
  };
  await withApp(options, async (baseURL) => {
    const browser = new TestBrowser();
    const start = await browser.get(`${baseURL}/login?returnTo=/me`);
    expect([...new URL(start.location!).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const { callback, result } = await signInAtIdp(browser, start.location!);
    jwtResponse(new URL(callback.url).searchParams.get('response') ?? undefined, 'web-jwt');
    expect(result!.location).toBe(`${baseURL}/me`);
    expect(JSON.parse((await browser.get(`${baseURL}/me`)).body).user.sub).toBe('alice');
  });
});

test('an IdP error inside a valid JWT response is handled like a plain one: prompt=none without a session', async () => {
  await withApp({ authorizationParams: { scope: 'openid', response_mode: 'jwt' } }, async (baseURL) => {
    const browser = new TestBrowser();
    const start = await browser.get(`${baseURL}/silent`);
    const atIdp = await browser.get(start.location!);
    const back = new URL(atIdp.location!);
    expect([...back.searchParams.keys()]).toEqual(['response']);
    expect(jose.decodeJwt(back.searchParams.get('response')!)).toMatchObject({
      iss: idp.issuer,
      aud: 'web',
      error: 'login_required',
    });
    const res = await browser.get(back.href);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'ERR_AUTHORIZATION_RESPONSE',
      message: 'the IdP answered "login_required"',
    });
    expect(JSON.parse((await browser.get(`${baseURL}/me`)).body).authenticated).toBe(false);
  });
});

test('an IdP without JWT responses: a clear error at the login, naming the option, not a trip to the IdP', async () => {
  const plain = await startIdp();
  const app = await startSigninApp(plain, {
    options: { authorizationParams: { response_mode: 'query.jwt' } },
  });
  try {
    const res = await new TestBrowser().get(`${app.baseURL}/login`);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({
      code: 'ERR_IDP_INCOMPATIBLE',
      message: `response_mode "query.jwt" (JARM) was asked for, but the IdP ${plain.issuer} offers only form_post, fragment, query: enable JWT responses at the IdP, or set "authorizationParams.response_mode" to one of those`,
    });
  } finally {
    await app.close();
    await plain.close();
  }
});
