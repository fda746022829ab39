import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { signInAtIdp } from '../helpers/browser.js';
import { API_AUDIENCE, startIdp, type TestIdp } from '../helpers/idp.js';
import {
  EXPRESS,
  type ExpressFactory,
  loginAs,
  type SigninApp,
  startSigninApp,
  TestBrowser,
} from './harness.js';

let idp: TestIdp;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(async () => {
  await idp.close();
});

describe.each(EXPRESS)('sign-in on %s', (_name, express) => {
  let app: SigninApp;
  beforeAll(async () => {
    app = await startSigninApp(idp, { express: express as unknown as ExpressFactory });
  });
  afterAll(async () => {
    await app.close();
  });

  test('logs a user in with the authorization code flow and PKCE S256', async () => {
    const browser = new TestBrowser();
    const { start, result } = await loginAs(browser, app, { returnTo: '/profile' });
    const authorize = new URL(start.location!);
    expect(authorize.origin).toBe(idp.issuer);
    expect(authorize.searchParams.get('response_type')).toBe('code');
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${app.baseURL}/callback`);
    expect(authorize.searchParams.get('scope')).toBe('openid profile email offline_access');

    expect(result.status).toBe(302);
    expect(result.location).toBe(`${app.baseURL}/profile`);
    const profile = await browser.get(`${app.baseURL}/profile`);
    expect(profile.status).toBe(200);
    expect(JSON.parse(profile.body).user).toMatchObject({
      sub: 'alice',
      email: 'alice@example.test',
      name: 'Alice',
    });

    const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
    expect(me.authenticated).toBe(true);
    expect(me.user).not.toHaveProperty('nonce');
    expect(me.claims).toMatchObject({ sub: 'alice', iss: idp.issuer, aud: 'web' });
    expect(me.expired).toBe(false);
    expect(me.hasRefreshToken).toBe(true);
    expect(me.expires_at).toBeGreaterThan(Date.now() / 1000);
  });

  test('the callback sets a new session id (no session fixation)', async () => {
    const browser = new TestBrowser();
    await browser.get(`${app.baseURL}/count`);
    const before = browser.cookie('127.0.0.1', 'sid')?.value;
    expect(before).toBeDefined();
    await loginAs(browser, app);
    const after = browser.cookie('127.0.0.1', 'sid')?.value;
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });

  test('res.oidc.login() starts a login with its own returnTo and authorization parameters', async () => {
    const browser = new TestBrowser();
    const start = await browser.get(`${app.baseURL}/admin-login`);
    const authorize = new URL(start.location!);
    expect(authorize.searchParams.get('prompt')).toBe('login');
    expect(authorize.searchParams.get('login_hint')).toBe('bob');
    expect(authorize.searchParams.get('scope')).toBe('openid profile email offline_access');
    const { result } = await signInAtIdp(browser, start.location!, { login: 'bob' });
    expect(result!.location).toBe(`${app.baseURL}/admin`);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).user.sub).toBe('bob');
  });

  test('configured authorizationParams reach the IdP: a resource gives a JWT access token with its scopes', async () => {
    const withApi = await startSigninApp(idp, {
      express: express as unknown as ExpressFactory,
      options: {
        authorizationParams: { scope: 'openid orders:read orders:write', resource: API_AUDIENCE },
      },
    });
    try {
      const bob = new TestBrowser();
      await loginAs(bob, withApi, { login: 'bob' });
      expect(JSON.parse((await bob.get(`${withApi.baseURL}/me`)).body).scope).toBe('orders:read');
      const alice = new TestBrowser();
      await loginAs(alice, withApi, { login: 'alice' });
      expect(JSON.parse((await alice.get(`${withApi.baseURL}/me`)).body).scope).toBe(
        'orders:read orders:write',
      );
    } finally {
      await withApi.close();
    }
  });

  test('two tabs can log in at once', async () => {
    const browser = new TestBrowser();
    const tab1 = await browser.get(`${app.baseURL}/login?returnTo=/one`);
    const tab2 = await browser.get(`${app.baseURL}/login?returnTo=/two`);
    const second = await signInAtIdp(browser, tab2.location!);
    expect(second.result!.location).toBe(`${app.baseURL}/two`);
    const first = await signInAtIdp(browser, tab1.location!);
    expect(first.result!.location).toBe(`${app.baseURL}/one`);
  });

  test('two logins started at the same moment, before either cookie is stored, both finish', async () => {
    const browser = new TestBrowser();
    // Both requests leave with the same (empty) cookie jar, as tabs restored together after a session
    // expired do; each answer's cookies are stored only once both answers are in.
    const [one, two] = await Promise.all([
      browser.get(`${app.baseURL}/login?returnTo=/one`),
      browser.get(`${app.baseURL}/login?returnTo=/two`),
    ]);
    const first = await signInAtIdp(browser, one.location!);
    expect(first.result!.body).toBe('');
    expect(first.result!.location).toBe(`${app.baseURL}/one`);
    const second = await signInAtIdp(browser, two.location!);
    expect(second.result!.body).toBe('');
    expect(second.result!.location).toBe(`${app.baseURL}/two`);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
    expect(app.errors).toEqual([]);
  });

  test('a login started at another host than baseURL: warned at /login, and the callback says what to do', async () => {
    const warnings: string[] = [];
    const other = await startSigninApp(idp, {
      express: express as unknown as ExpressFactory,
      options: { logger: { warn: (_details, message) => warnings.push(message) } },
    });
    try {
      const browser = new TestBrowser();
      const atLocalhost = other.baseURL.replace('127.0.0.1', 'localhost');
      const start = await browser.get(`${atLocalhost}/login`);
      const { result } = await signInAtIdp(browser, start.location!);
      expect(result!.status).toBe(400);
      const host = new URL(atLocalhost).host;
      expect(JSON.parse(result!.body)).toEqual({
        code: 'ERR_STATE_MISMATCH',
        message: `this sign-in was started at host "${host}", but the app's baseURL is ${other.baseURL}, and the browser keeps cookies per host: open the app at ${other.baseURL} (or set baseURL to the address users open), then sign in again`,
      });
      await browser.get(`${atLocalhost}/login`);
      expect(warnings).toEqual([
        `auth(): a login was started at host "${host}", but baseURL is ${other.baseURL}: the browser will not send this login's cookie there, so the callback will refuse it. Open the app at ${other.baseURL}, or set baseURL to the address users open`,
      ]);
    } finally {
      await other.close();
    }
  });

  test('a login started in another browser is refused, although this browser has logins of its own', async () => {
    const victim = new TestBrowser();
    await victim.get(`${app.baseURL}/login?returnTo=/mine`);
    const attacker = new TestBrowser();
    const start = await attacker.get(`${app.baseURL}/login`);
    const { callback } = await signInAtIdp(attacker, start.location!, { stopAtCallback: true });
    const res = await victim.get(callback.url);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      code: 'ERR_STATE_MISMATCH',
      message:
        'this sign-in was started in another browser, or this browser lost its sign-in cookie: start again from the login page',
    });
    expect(JSON.parse((await victim.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
    app.errors.length = 0;
  });

  test('a client that sent back no sign-in cookie is told so, not sent looking for another browser', async () => {
    // Python's http.cookiejar never sends a `Secure` cookie over http, even to localhost (browsers do).
    class ScriptClient extends TestBrowser {
      override store(url: URL, header: string): void {
        if (url.protocol !== 'http:' || !/;\s*secure\b/i.test(header)) super.store(url, header);
      }
    }
    const script = new ScriptClient();
    const start = await script.get(`${app.baseURL}/login`);
    expect(start.setCookies.filter((c) => c.startsWith('portcullis.tx.'))).not.toEqual([]);
    expect(start.setCookies.filter((c) => c.startsWith('portcullis.tx.') && !/; Secure/.test(c))).toEqual([]);
    const { callback, result } = await signInAtIdp(script, start.location!);
    expect(result!.status).toBe(400);
    expect(JSON.parse(result!.body)).toEqual({
      code: 'ERR_STATE_MISMATCH',
      message: `this callback came without the sign-in cookie (portcullis.tx.*) set at /login: the browser or client did not send it back. Cookies may be blocked; the client may not send Secure cookies over http://localhost (browsers do, some scripts' cookie jars do not); /login and the callback may have been opened at different host names (localhost and 127.0.0.1 are two, and baseURL is ${app.baseURL}); or the login took longer than the cookie's 15 minutes. Start the login again from /login`,
    });
    expect(result!.body).not.toContain(new URL(callback.url).searchParams.get('state'));
    expect(JSON.parse((await script.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
    app.errors.length = 0;
  });

  test('a finished login leaves no binding cookie behind', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    const left = [...(browser.jar.get('127.0.0.1')?.keys() ?? [])].filter((n) =>
      n.startsWith('portcullis.tx'),
    );
    expect(left).toEqual([]);
  });

  test('abandoned logins do not pile up cookies: beyond 20, the oldest are dropped', async () => {
    const browser = new TestBrowser();
    const starts = [];
    for (let i = 0; i < 22; i++) starts.push(await browser.get(`${app.baseURL}/login?returnTo=/${i}`));
    const bindings = [...(browser.jar.get('127.0.0.1')?.keys() ?? [])].filter((n) =>
      /^portcullis\.tx\.[A-Za-z0-9_-]+$/.test(n),
    );
    expect(bindings).toHaveLength(20);
    const oldest = await signInAtIdp(browser, starts[0]!.location!);
    expect(oldest.result!.status).toBe(400);
    expect(JSON.parse(oldest.result!.body).code).toBe('ERR_STATE_MISMATCH');
    const newest = await signInAtIdp(browser, starts[21]!.location!);
    expect(newest.result!.location).toBe(`${app.baseURL}/21`);
    const third = await signInAtIdp(browser, starts[2]!.location!);
    expect(third.result!.location).toBe(`${app.baseURL}/2`);
    app.errors.length = 0;
  });

  test('requiresAuth() redirects browsers to the IdP and answers API clients with 401 JSON', async () => {
    const browser = new TestBrowser();
    const page = await browser.get(`${app.baseURL}/profile?tab=1`);
    expect(page.status).toBe(302);
    expect(new URL(page.location!).origin).toBe(idp.issuer);
    const { result } = await signInAtIdp(browser, page.location!);
    expect(result!.location).toBe(`${app.baseURL}/profile?tab=1`);

    const api = await new TestBrowser().get(`${app.baseURL}/profile`, { accept: 'application/json' });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toEqual({
      error: 'unauthorized',
      error_description:
        'authentication required: sign in at /login first (a browser, which sends Accept: text/html, is redirected there)',
    });
    const any = await new TestBrowser().get(`${app.baseURL}/profile`, { accept: '*/*' });
    expect(any.status).toBe(401);
  });
});

describe('form_post', () => {
  let app: SigninApp;
  beforeAll(async () => {
    app = await startSigninApp(idp, {
      options: { authorizationParams: { scope: 'openid email', response_mode: 'form_post' } },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  test('completes although the cross-site POST carries only SameSite=None cookies', async () => {
    const browser = new TestBrowser();
    const { callback, result } = await loginAs(browser, app, { returnTo: '/me' });
    expect(callback.method).toBe('POST');
    expect(result.status).toBe(302);
    expect(result.location).toBe(`${app.baseURL}/me`);
    const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
    expect(me.authenticated).toBe(true);
    expect(me.user.sub).toBe('alice');
  });

  test('two logins started at the same moment both finish through the cross-site POST', async () => {
    const browser = new TestBrowser();
    const [one, two] = await Promise.all([
      browser.get(`${app.baseURL}/login?returnTo=/one`),
      browser.get(`${app.baseURL}/login?returnTo=/two`),
    ]);
    const first = await signInAtIdp(browser, one.location!);
    expect(first.callback.method).toBe('POST');
    expect(first.result!.location).toBe(`${app.baseURL}/one`);
    const second = await signInAtIdp(browser, two.location!);
    expect(second.result!.location).toBe(`${app.baseURL}/two`);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
  });

  test('the transaction cookie is SameSite=None; Secure, with a SameSite=Lax twin, and holds no secret', async () => {
    const browser = new TestBrowser();
    const start = await browser.get(`${app.baseURL}/login`);
    const cookies = start.setCookies.join('\n');
    expect(cookies).toMatch(
      /portcullis\.tx\.[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=900; HttpOnly; SameSite=None; Secure/,
    );
    expect(cookies).toMatch(
      /portcullis\.tx\.[A-Za-z0-9_-]{16}\.lax=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=900; HttpOnly; SameSite=Lax/,
    );
    const authorize = new URL(start.location!);
    for (const secret of [authorize.searchParams.get('state')!, authorize.searchParams.get('nonce')!]) {
      expect(cookies).not.toContain(secret);
    }
  });
});
