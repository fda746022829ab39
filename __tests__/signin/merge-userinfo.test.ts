/**
 * IdPs whose ID tokens carry no profile claims when an access token is issued too (OpenID Connect
 * Core §5.4, as Okta and oidc-provider's default do): `mergeUserInfo` reads userinfo once at login
 * and fills `req.oidc.user`, and a userinfo answer about another user fails the login.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

let idp: TestIdp;
let forgeSub = false;
const apps: SigninApp[] = [];

beforeAll(async () => {
  idp = await startIdp({
    conformIdTokenClaims: true,
    extend: (provider) => {
      // A userinfo endpoint that answers about another user when asked to (Core §5.3.2's attack).
      provider.use(async (ctx, next) => {
        await next();
        if (forgeSub && ctx.path === '/me' && ctx.body !== undefined) {
          ctx.body = { ...(ctx.body as object), sub: 'mallory' };
        }
      });
    },
  });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await idp.close();
});

async function app(mergeUserInfo: boolean): Promise<SigninApp> {
  const started = await startSigninApp(idp, { options: { mergeUserInfo } });
  apps.push(started);
  return started;
}

async function me(signin: SigninApp, browser: TestBrowser) {
  return JSON.parse((await browser.get(`${signin.baseURL}/me`)).body) as {
    user: Record<string, unknown>;
    claims: Record<string, unknown>;
  };
}

describe('mergeUserInfo', () => {
  test('without it, such an IdP gives a user with no name or email (the quirk)', async () => {
    const signin = await app(false);
    const browser = new TestBrowser();
    expect((await loginAs(browser, signin)).result.status).toBe(302);
    const { user } = await me(signin, browser);
    expect(user.sub).toBe('alice');
    expect(user.name).toBeUndefined();
    expect(user.email).toBeUndefined();
  });

  test('with it, name and email come from userinfo; the ID token claims stay as signed', async () => {
    const signin = await app(true);
    const browser = new TestBrowser();
    expect((await loginAs(browser, signin)).result.status).toBe(302);
    const { user, claims } = await me(signin, browser);
    expect(user).toMatchObject({
      sub: 'alice',
      name: 'Alice',
      email: 'alice@example.test',
      email_verified: true,
    });
    expect(claims.email).toBeUndefined();
    expect(claims.iss).toBe(idp.issuer);
    // A refresh brings a new ID token, not new userinfo: the profile stays.
    expect((await browser.post(`${signin.baseURL}/refresh`, {})).status).toBe(200);
    expect((await me(signin, browser)).user.email).toBe('alice@example.test');
  });

  test('userinfo about another sub fails the login, and no session is made', async () => {
    const signin = await app(true);
    const browser = new TestBrowser();
    forgeSub = true;
    try {
      const { result } = await loginAs(browser, signin);
      expect(result.status).toBe(502);
      expect(signin.errors.at(-1)).toMatchObject({ code: 'ERR_USERINFO_FAILED' });
    } finally {
      forgeSub = false;
    }
    expect((await me(signin, browser)).user).toBeUndefined();
  });
});
