/**
 * An app that already uses csurf keeps working with auth(); and no token, code or verifier ever
 * reaches a Set-Cookie, an HTML/JSON body, a URL we redirect to, a log line or an error message.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import csurf from 'csurf';
import express, { type Express } from 'express';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

let idp: TestIdp;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(async () => {
  await idp.close();
});

describe('csurf compatibility', () => {
  let app: SigninApp;
  beforeAll(async () => {
    app = await startSigninApp(idp, {
      options: { authorizationParams: { scope: 'openid email', response_mode: 'form_post' } },
      // The app parses forms before auth(): the callback then reads the already-parsed body.
      before: (a: Express) => a.use(express.urlencoded({ extended: false })),
      routes: (a: Express) => {
        // An existing app: csurf after auth(), protecting its own forms.
        a.use(csurf());
        a.get('/form', (req, res) => res.json({ csrfToken: req.csrfToken?.() }));
        a.post('/transfer', (_req, res) => res.json({ done: true }));
      },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  test("login (form_post), the app's CSRF-protected forms and logout all work", async () => {
    const browser = new TestBrowser();
    const { result } = await loginAs(browser, app, { returnTo: '/form' });
    expect(result.status).toBe(302);
    const { csrfToken } = JSON.parse((await browser.get(`${app.baseURL}/form`)).body);
    expect((await browser.post(`${app.baseURL}/transfer`, { _csrf: csrfToken })).status).toBe(200);
    // csurf still refuses a forged form.
    expect((await browser.post(`${app.baseURL}/transfer`, { _csrf: 'forged' })).status).toBe(403);
    expect((await browser.post(`${app.baseURL}/logout`, {})).status).toBe(302);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
  });
});

describe('nothing secret leaks', () => {
  test.each(['query', 'form_post'] as const)(
    'a full %s login, refresh, userinfo and logout',
    async (mode) => {
      const logged: string[] = [];
      const levels = ['log', 'info', 'warn', 'error', 'debug'] as const;
      const originals = levels.map((l) => console[l]);
      for (const l of levels) console[l] = (...args: unknown[]) => logged.push(args.map(String).join(' '));
      const sent: string[] = [];
      const app = await startSigninApp(idp, {
        options: {
          idpLogout: true,
          authorizationParams: { scope: 'openid email offline_access', response_mode: mode },
          // Capture what goes to the IdP, to learn the code verifier and the tokens.
          fetch: async (input, init) => {
            sent.push(String(init?.body ?? ''));
            const res = await fetch(input, init);
            sent.push(await res.clone().text());
            return res;
          },
        },
      });
      try {
        const browser = new TestBrowser();
        const start = await browser.get(`${app.baseURL}/login?returnTo=/me`);
        const { callback } = await signInAtIdp(browser, start.location!, { stopAtCallback: true });
        const code =
          callback.method === 'GET'
            ? new URL(callback.url).searchParams.get('code')!
            : callback.form!['code']!;
        if (callback.method === 'GET') await browser.get(callback.url);
        else await browser.request('POST', callback.url, { form: callback.form!, crossSite: true });
        await browser.post(`${app.baseURL}/refresh`, {});
        await browser.get(`${app.baseURL}/userinfo`);
        await browser.get(`${app.baseURL}/me`);
        await browser.get(`${app.baseURL}/profile`);
        const logout = await browser.post(`${app.baseURL}/logout`, {});

        const secrets = [code];
        for (const text of sent) {
          const body = new URLSearchParams(text);
          for (const key of ['code_verifier', 'refresh_token'])
            if (body.get(key)) secrets.push(body.get(key)!);
          if (text.startsWith('{')) {
            const json = JSON.parse(text) as Record<string, unknown>;
            for (const key of ['access_token', 'refresh_token', 'id_token'])
              if (typeof json[key] === 'string') secrets.push(json[key] as string);
          }
        }
        expect(secrets.length).toBeGreaterThanOrEqual(6); // code, verifier, 2 access, 2 refresh, ids
        const idTokens = new Set(
          sent.flatMap((t) => (t.startsWith('{') ? [JSON.parse(t).id_token] : [])).filter(Boolean),
        );

        const fromApp = browser.history.filter((h) => h.url.startsWith(app.baseURL));
        for (const hop of fromApp) {
          for (const secret of secrets) {
            expect(hop.setCookies.join('\n')).not.toContain(secret);
            expect(hop.body).not.toContain(secret);
            // The end-session redirect carries the ID token as id_token_hint, as RP-initiated logout requires.
            const location =
              hop === logout ? (hop.location ?? '').replace(/id_token_hint=[^&]*/, '') : (hop.location ?? '');
            expect(location).not.toContain(secret);
          }
        }
        expect(idTokens.size).toBeGreaterThan(0);
        for (const line of logged) for (const secret of secrets) expect(line).not.toContain(secret);
        for (const err of app.errors) for (const secret of secrets) expect(err.message).not.toContain(secret);
      } finally {
        levels.forEach((l, i) => {
          console[l] = originals[i]!;
        });
        await app.close();
      }
    },
  );

  test('req.oidc and res.oidc show no token and no secret when logged or serialised', async () => {
    let shown = '';
    const app = await startSigninApp(idp, {
      routes: (a: Express) =>
        a.get('/debug', (req, res) => {
          shown = [
            JSON.stringify(req.oidc),
            inspect(req.oidc, { depth: 5 }),
            JSON.stringify(res.oidc),
            inspect(res.oidc, { depth: 5 }),
          ].join(' ');
          res.json({});
        }),
    });
    try {
      const browser = new TestBrowser();
      await loginAs(browser, app);
      await browser.get(`${app.baseURL}/debug`);
      expect(shown).toContain('SessionRequestContext'); // what was inspected is the context itself
      expect(shown).not.toMatch(/eyJ/);
      // The per-request notes (runtime, provider: the client's configuration) are private too.
      expect(shown).not.toContain(WEB_SECRET);
    } finally {
      await app.close();
    }
  });
});
