/**
 * `revokeOnLogout` (RFC 7009) against oidc-provider's revocation endpoint: after logout the IdP itself
 * says the tokens are dead; an IdP that is down, failing or hanging never holds up or fails the
 * logout, which waits at most httpTimeout and logs a warning.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { TokenSet } from '../../lib/index.js';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

type Mode = 'normal' | '500' | 'hang';
const idpBehaviour = { revocation: 'normal' as Mode, discoveryDelay: 0, revocations: 0 };
const hanging: Array<() => void> = [];

/** oidc-provider, with a revocation endpoint that can fail or hang and a discovery that can be slow. */
function hostileRevocation(provider: TestIdp['provider']): void {
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.path === '/.well-known/openid-configuration' && idpBehaviour.discoveryDelay > 0) {
      await new Promise((resolve) => setTimeout(resolve, idpBehaviour.discoveryDelay));
    }
    if (ctx.path === '/token/revocation') {
      idpBehaviour.revocations++;
      if (idpBehaviour.revocation === '500') {
        ctx.status = 500;
        ctx.body = { error: 'server_error' };
        return;
      }
      if (idpBehaviour.revocation === 'hang') {
        await new Promise<void>((resolve) => {
          ctx.req.once('close', resolve);
          hanging.push(resolve);
        });
        return;
      }
    }
    await next();
  });
}

interface Warning {
  details: Record<string, unknown>;
  message: string;
}

let idp: TestIdp;
let app: SigninApp;
let plain: SigninApp;
let endpoints: { introspection_endpoint: string; token_endpoint: string; revocation_endpoint: string };
const warnings: Warning[] = [];
const logger = {
  warn: (details: object, message: string) => warnings.push({ details: { ...details }, message }),
};
const HTTP_TIMEOUT = 1000;

beforeAll(async () => {
  idp = await startIdp({ extend: hostileRevocation });
  app = await startSigninApp(idp, { options: { revokeOnLogout: true, httpTimeout: HTTP_TIMEOUT, logger } });
  plain = await startSigninApp(idp, { options: { logger } });
  endpoints = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json();
});
afterAll(async () => {
  for (const release of hanging) release();
  await app.close();
  await plain.close();
  await idp.close();
});

const basic = `Basic ${Buffer.from(`web:${WEB_SECRET}`).toString('base64')}`;

function post(url: string, form: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
}

/** The IdP's own word on a token (RFC 7662). */
async function active(token: string, hint: 'refresh_token' | 'access_token'): Promise<boolean> {
  const answer = await post(endpoints.introspection_endpoint, { token, token_type_hint: hint });
  return ((await answer.json()) as { active: boolean }).active;
}

/** Sign in, and read the tokens the session holds (server-side, in the store). */
async function signIn(
  at: SigninApp,
  browser = new TestBrowser(),
): Promise<{ browser: TestBrowser; tokens: TokenSet }> {
  await loginAs(browser, at);
  const me = JSON.parse((await browser.get(`${at.baseURL}/me`)).body) as { sessionID: string };
  const session = await new Promise<{ portcullis: { tokens: TokenSet } }>((resolve, reject) =>
    at.store.get(me.sessionID, (err, data) =>
      err ? reject(err) : resolve(data as unknown as { portcullis: { tokens: TokenSet } }),
    ),
  );
  return { browser, tokens: session.portcullis.tokens };
}

/** Log out; the time it took, and whether the user is signed out. */
async function logOut(at: SigninApp, browser: TestBrowser) {
  const started = Date.now();
  const res = await browser.get(`${at.baseURL}/logout`);
  const ms = Date.now() - started;
  const me = JSON.parse((await browser.get(`${at.baseURL}/me`)).body) as { authenticated: boolean };
  return { res, ms, signedOut: !me.authenticated };
}

function reset(mode: Mode): void {
  idpBehaviour.revocation = mode;
  idpBehaviour.discoveryDelay = 0;
  idpBehaviour.revocations = 0;
  warnings.length = 0;
}

describe('revokeOnLogout', () => {
  test('after logout the refresh token and the access token no longer work at the IdP', async () => {
    reset('normal');
    const { browser, tokens } = await signIn(app);
    expect(tokens.refresh_token).toBeDefined();
    expect(await active(tokens.refresh_token!, 'refresh_token')).toBe(true);
    expect(await active(tokens.access_token!, 'access_token')).toBe(true);

    const { res, signedOut } = await logOut(app, browser);
    expect(res.status).toBe(302);
    expect(res.location).toBe(`${app.baseURL}/`);
    expect(signedOut).toBe(true);
    expect(idpBehaviour.revocations).toBe(2);

    expect(await active(tokens.refresh_token!, 'refresh_token')).toBe(false);
    expect(await active(tokens.access_token!, 'access_token')).toBe(false);
    const refresh = await post(endpoints.token_endpoint, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
    });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
    expect(warnings).toEqual([]);
  });

  test('without revokeOnLogout the tokens outlive the logout (what the option is for)', async () => {
    reset('normal');
    const { browser, tokens } = await signIn(plain);
    expect((await logOut(plain, browser)).signedOut).toBe(true);
    expect(idpBehaviour.revocations).toBe(0);
    expect(await active(tokens.refresh_token!, 'refresh_token')).toBe(true);
  });

  test('a revocation endpoint answering 500 still logs the user out at once, with a warning per token', async () => {
    reset('500');
    const { browser, tokens } = await signIn(app);
    const { res, ms, signedOut } = await logOut(app, browser);
    expect(res.status).toBe(302);
    expect(signedOut).toBe(true);
    expect(ms).toBeLessThan(HTTP_TIMEOUT);
    expect(warnings.map((w) => w.details['token']).sort()).toEqual(['access_token', 'refresh_token']);
    const refreshWarning = warnings.find((w) => w.details['token'] === 'refresh_token')!;
    expect(refreshWarning.message).toBe(
      `auth(): the user was logged out, but the refresh token was not revoked at the IdP: token revocation failed: the revocation endpoint ${endpoints.revocation_endpoint} answered 500 (application/json): the IdP is down or overloaded; retry later`,
    );
    expect(refreshWarning.details).toMatchObject({
      provider: 'default',
      code: 'ERR_IDP_UNAVAILABLE',
      idpUrl: endpoints.revocation_endpoint,
      idpStatus: 500,
    });
    // Warnings name the token's type, never the token.
    const logged = JSON.stringify(warnings);
    for (const secret of [tokens.refresh_token!, tokens.access_token!, tokens.id_token, WEB_SECRET]) {
      expect(logged).not.toContain(secret);
    }
  });

  test('a revocation endpoint that hangs holds the logout for httpTimeout at most', async () => {
    reset('hang');
    const { browser } = await signIn(app);
    const { res, ms, signedOut } = await logOut(app, browser);
    expect(res.status).toBe(302);
    expect(signedOut).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(HTTP_TIMEOUT - 50);
    expect(ms).toBeLessThan(HTTP_TIMEOUT + 700);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0]!.message).toMatch(
      /^auth\(\): the user was logged out, but (the IdP did not confirm revoking the tokens within httpTimeout \(1000 ms\)|the (refresh|access) token was not revoked at the IdP: token revocation failed: the revocation endpoint \S+ did not answer in time)/,
    );
  });

  test('a slow discovery and a hanging revocation together still hold the logout for httpTimeout only', async () => {
    // Another process of the fleet, whose metadata is cold: it reads the same session store.
    const other = await startSigninApp(idp, {
      store: app.store,
      options: { revokeOnLogout: true, httpTimeout: HTTP_TIMEOUT, logger },
    });
    try {
      reset('hang');
      const { browser } = await signIn(app);
      idpBehaviour.discoveryDelay = Math.round(HTTP_TIMEOUT * 0.8);
      const { res, ms, signedOut } = await logOut(other, browser);
      expect(res.status).toBe(302);
      expect(signedOut).toBe(true);
      expect(ms).toBeLessThan(HTTP_TIMEOUT + 500);
      expect(warnings.map((w) => w.message)).toContain(
        'auth(): the user was logged out, but the IdP did not confirm revoking the tokens within httpTimeout (1000 ms); they stay valid until they expire unless the IdP revoked them anyway',
      );
    } finally {
      await other.close();
    }
  });

  test('an IdP that refuses connections still lets the user log out at once, with warnings', async () => {
    reset('normal');
    const { browser } = await signIn(app);
    await idp.stop();
    try {
      const { res, ms, signedOut } = await logOut(app, browser);
      expect(res.status).toBe(302);
      expect(signedOut).toBe(true);
      expect(ms).toBeLessThan(HTTP_TIMEOUT);
      expect(warnings.map((w) => w.details['code'])).toEqual(['ERR_IDP_UNAVAILABLE', 'ERR_IDP_UNAVAILABLE']);
      expect(warnings[0]!.message).toContain('could not be reached (ECONNREFUSED)');
    } finally {
      await idp.start();
    }
  });
});

describe('revokeOnLogout at an IdP without a revocation endpoint', () => {
  let bare: TestIdp;
  let bareApp: SigninApp;
  beforeAll(async () => {
    bare = await startIdp({ revocation: false });
    bareApp = await startSigninApp(bare, { options: { revokeOnLogout: true, logger } });
  });
  afterAll(async () => {
    await bareApp.close();
    await bare.close();
  });

  test('logout works, and the missing endpoint is warned about once, saying what to do', async () => {
    reset('normal');
    for (let i = 0; i < 2; i++) {
      const { browser } = await signIn(bareApp);
      expect((await logOut(bareApp, browser)).signedOut).toBe(true);
    }
    expect(warnings).toEqual([
      {
        details: { provider: 'default', option: 'revokeOnLogout' },
        message: `auth(): "revokeOnLogout" is on, but the IdP ${bare.issuer}/ advertises no revocation_endpoint, so tokens are not revoked at logout: enable token revocation (RFC 7009) at the IdP, or turn "revokeOnLogout" off`,
      },
    ]);
  });
});
