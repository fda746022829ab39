/** Logout, refresh, userinfo, the session lifetime cap and the afterCallback hook. */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type { Express } from 'express';
import { PortcullisError } from '../../lib/index.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

let idp: TestIdp;
const grants: string[] = [];
beforeAll(async () => {
  idp = await startIdp();
  idp.provider.on('grant.success', (ctx) => grants.push(String(ctx.oidc.params?.['grant_type'])));
});
afterAll(async () => {
  await idp.close();
});
const refreshes = () => grants.filter((g) => g === 'refresh_token').length;

const rewind = (app: Express) =>
  app.post('/rewind', (req, res) => {
    const login = req.session.portcullis!;
    login.createdAt -= Number(req.query['seconds']) * 1000;
    res.json({ ok: true });
  });

describe('logout', () => {
  let local: SigninApp;
  let idpLogout: SigninApp;
  beforeAll(async () => {
    local = await startSigninApp(idp);
    idpLogout = await startSigninApp(idp, { options: { idpLogout: true } });
  });
  afterAll(async () => {
    await local.close();
    await idpLogout.close();
  });

  test.each(['GET', 'POST'])('%s /logout destroys the local session', async (method) => {
    const browser = new TestBrowser();
    await loginAs(browser, local);
    const before = JSON.parse((await browser.get(`${local.baseURL}/me`)).body);
    const res = await browser.request(method, `${local.baseURL}/logout?returnTo=/bye`);
    expect(res.status).toBe(302);
    expect(res.location).toBe(`${local.baseURL}/bye`);
    expect(JSON.parse((await browser.get(`${local.baseURL}/me`)).body).authenticated).toBe(false);
    // The old session is gone from the store, not only from this browser.
    expect(await new Promise((r) => local.store.get(before.sessionID, (_e, s) => r(s)))).toBeFalsy();
  });

  test.each(['GET', 'POST'])(
    '%s /logout with idpLogout goes on to the IdP (RP-initiated logout)',
    async (method) => {
      const browser = new TestBrowser();
      await loginAs(browser, idpLogout);
      const idToken = await new Promise<string>((resolve) =>
        idpLogout.store.all((_e, all) => {
          const sessions = Object.values(all ?? {}) as Array<{
            portcullis?: { tokens: { id_token: string } };
          }>;
          resolve(
            sessions
              .map((s) => s.portcullis?.tokens.id_token)
              .filter(Boolean)
              .at(-1)!,
          );
        }),
      );
      const res = await browser.request(method, `${idpLogout.baseURL}/logout`);
      expect(res.status).toBe(302);
      const end = new URL(res.location!);
      expect(`${end.origin}${end.pathname}`).toBe(`${idp.issuer}/session/end`);
      expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${idpLogout.baseURL}/logout/callback`);
      expect(end.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(end.searchParams.get('client_id')).toBe('web');
      expect(end.searchParams.get('id_token_hint')).toBe(idToken);
      expect(JSON.parse((await browser.get(`${idpLogout.baseURL}/me`)).body).authenticated).toBe(false);
      // The IdP accepts the request and shows its logout confirmation.
      const confirm = await browser.get(res.location!);
      expect(confirm.status).toBe(200);
      expect(confirm.body).toContain('logout');
    },
  );

  test('an unsafe returnTo falls back to the post-logout page', async () => {
    const browser = new TestBrowser();
    const res = await browser.get(
      `${local.baseURL}/logout?returnTo=${encodeURIComponent('https://evil.example/')}`,
    );
    expect(res.location).toBe(`${local.baseURL}/`);
  });
});

describe('refresh and userinfo', () => {
  let app: SigninApp;
  const fetched: string[] = [];
  beforeAll(async () => {
    app = await startSigninApp(idp, {
      options: {
        // The custom fetch sees every call to the IdP; it slows refreshes so that concurrent calls overlap.
        fetch: async (input, init) => {
          const url = String(input instanceof Request ? input.url : input);
          fetched.push(url);
          if (String(init?.body ?? '').includes('grant_type=refresh_token'))
            await new Promise((r) => setTimeout(r, 150));
          return fetch(input, init);
        },
      },
    });
  });

  test('the custom fetch option carries every call to the IdP', async () => {
    await loginAs(new TestBrowser(), app);
    expect(fetched).toEqual(
      expect.arrayContaining([
        `${idp.issuer}/.well-known/openid-configuration`,
        `${idp.issuer}/token`,
        `${idp.issuer}/jwks`,
      ]),
    );
  });
  afterAll(async () => {
    await app.close();
  });

  test('refresh() gets new tokens with the refresh token and keeps the user signed in after rotation', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    const before = refreshes();
    for (let i = 0; i < 3; i++) {
      const res = await browser.post(`${app.baseURL}/refresh`, {});
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).expires_at).toBeGreaterThan(Date.now() / 1000);
    }
    expect(refreshes()).toBe(before + 3);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
  });

  test('concurrent refresh() calls in one session share one request', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    const before = refreshes();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => browser.post(`${app.baseURL}/refresh`, {})),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(refreshes()).toBe(before + 1);
    // The rotated refresh token was saved: the next refresh works.
    expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
  });

  test('refresh() without a login or without a refresh token is a clear 4xx', async () => {
    const anonymous = await new TestBrowser().post(`${app.baseURL}/refresh`, {});
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body).code).toBe('ERR_NOT_AUTHENTICATED');
    const noOffline = await startSigninApp(idp, { options: { clientID: 'web-no-refresh' } });
    try {
      const browser = new TestBrowser();
      await loginAs(browser, noOffline);
      const me = JSON.parse((await browser.get(`${noOffline.baseURL}/me`)).body);
      expect(me.hasRefreshToken).toBe(false);
      const res = await browser.post(`${noOffline.baseURL}/refresh`, {});
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).code).toBe('ERR_NO_REFRESH_TOKEN');
    } finally {
      await noOffline.close();
    }
  });

  test('fetchUserInfo() returns the userinfo claims of the signed-in user', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app, { login: 'carol' });
    const res = await browser.get(`${app.baseURL}/userinfo`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ sub: 'carol', email: 'carol@example.test' });
  });
});

describe('autoRefresh', () => {
  let app: SigninApp;
  beforeAll(async () => {
    app = await startSigninApp(idp, { options: { autoRefresh: true } });
  });
  afterAll(async () => {
    await app.close();
  });
  afterEach(() => {
    idp.settings.accessTokenTTL = 3600;
  });

  test('an access token at its expiry is refreshed before the route runs', async () => {
    idp.settings.accessTokenTTL = 2;
    const browser = new TestBrowser();
    await loginAs(browser, app);
    idp.settings.accessTokenTTL = 3600;
    const before = refreshes();
    const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
    expect(refreshes()).toBe(before + 1);
    expect(me.authenticated).toBe(true);
    expect(me.expires_at).toBeGreaterThan(Date.now() / 1000 + 3000);
    // A fresh token is not refreshed again.
    await browser.get(`${app.baseURL}/me`);
    expect(refreshes()).toBe(before + 1);
  });
});

describe('session lifetime and the afterCallback hook', () => {
  test('a login older than absoluteDuration is signed out, whatever its activity', async () => {
    const app = await startSigninApp(idp, { options: { absoluteDuration: 3600 }, routes: rewind });
    try {
      const browser = new TestBrowser();
      await loginAs(browser, app);
      await browser.post(`${app.baseURL}/rewind?seconds=3500`, {});
      expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
      await browser.post(`${app.baseURL}/rewind?seconds=200`, {});
      expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
    } finally {
      await app.close();
    }
  });

  test('afterCallback can refuse a user (403, no session) and can map claims', async () => {
    const app = await startSigninApp(idp, {
      options: {
        afterCallback: (_req, _res, tokens) => {
          if (tokens.claims['sub'] === 'mallory') throw new Error('banned');
          return { ...tokens, claims: { ...tokens.claims, role: 'admin' } };
        },
      },
    });
    try {
      const mallory = new TestBrowser();
      const { result } = await loginAs(mallory, app, { login: 'mallory' });
      expect(result.status).toBe(403);
      expect(JSON.parse(result.body).code).toBe('ERR_LOGIN_REFUSED');
      expect(JSON.parse((await mallory.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);

      const alice = new TestBrowser();
      await loginAs(alice, app);
      expect(JSON.parse((await alice.get(`${app.baseURL}/me`)).body).user).toMatchObject({
        sub: 'alice',
        role: 'admin',
      });
    } finally {
      await app.close();
    }
  });

  test('afterCallback may refuse with its own PortcullisError status', async () => {
    const app = await startSigninApp(idp, {
      options: {
        afterCallback: () => {
          throw new PortcullisError('ERR_LOGIN_REFUSED', 'email not verified', { status: 401 });
        },
      },
    });
    try {
      const { result } = await loginAs(new TestBrowser(), app);
      expect(result.status).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('authRequired', () => {
  test('every route after auth() requires a login: browsers go to the IdP, API clients get 401', async () => {
    const app = await startSigninApp(idp, { options: { authRequired: true } });
    try {
      const browser = new TestBrowser();
      const page = await browser.get(`${app.baseURL}/me?x=1`);
      expect(page.status).toBe(302);
      expect(new URL(page.location!).origin).toBe(idp.issuer);
      expect((await new TestBrowser().get(`${app.baseURL}/me`, { accept: 'application/json' })).status).toBe(
        401,
      );
      await loginAs(browser, app);
      expect((await browser.get(`${app.baseURL}/me`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('a stale copy of the session', () => {
  test('saved over a refreshed one, it follows the rotation log instead of replaying a used refresh token', async () => {
    const app = await startSigninApp(idp);
    try {
      const browser = new TestBrowser();
      await loginAs(browser, app);
      const { sessionID } = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
      const stale = await new Promise<unknown>((r) => app.store.get(sessionID, (_e, s) => r(s)));
      expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
      // Another request that loaded the session earlier saves its copy last: the old refresh token is back.
      await new Promise((r) => app.store.set(sessionID, stale as never, r));
      const before = refreshes();
      expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
      expect(refreshes()).toBe(before); // the newer tokens were adopted; the used token was not sent
      // The grant was not revoked: a real refresh still works.
      await new Promise((r) => setTimeout(r, 50));
      expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
      expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
    } finally {
      await app.close();
    }
  });
});
