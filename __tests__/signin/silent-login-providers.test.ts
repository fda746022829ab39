/**
 * attemptSilentLogin with several IdPs: the silent login goes to the provider a login here would use
 * (`defaultProvider`, or resolveProvider's answer), at that provider's own callback path, and only when
 * that provider has it on; with no provider to choose, nothing is tried. A session of another tenant's
 * provider is never replaced behind the user's back.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Express } from 'express';
import type { ResolvedProvider } from '../../lib/index.js';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';
import { loginAs, pageBrowser, type SigninApp, startAuthApp, startProvidersApp } from './harness.js';

let corp: TestIdp;
let partner: TestIdp;
beforeAll(async () => {
  [corp, partner] = await Promise.all([startIdp(), startIdp()]);
});
afterAll(async () => {
  await Promise.all([corp.close(), partner.close()]);
});

const pages = (app: Express) => {
  app.get(['/page', '/:tenant/page'], (req, res) => {
    res.type('html').send(req.oidc.isAuthenticated() ? `<p>in at ${req.oidc.provider}</p>` : '<p>out</p>');
  });
};

async function withApp(
  options: Parameters<typeof startProvidersApp>[1],
  run: (app: SigninApp) => Promise<void>,
): Promise<void> {
  const app = await startProvidersApp({ corp, partner }, { ...options, routes: pages });
  try {
    await run(app);
  } finally {
    await app.close();
  }
}

describe('providers', () => {
  test('the default provider, with the option on, is tried at its own callback path', async () => {
    await withApp(
      {
        options: { defaultProvider: 'corp' },
        provider: (id) => ({ attemptSilentLogin: id === 'corp' }),
      },
      async (app) => {
        const browser = pageBrowser();
        const first = await browser.get(`${app.baseURL}/page`);
        const authorize = new URL(first.location!);
        expect(authorize.origin).toBe(corp.issuer);
        expect(authorize.searchParams.get('prompt')).toBe('none');
        expect(authorize.searchParams.get('redirect_uri')).toBe(`${app.baseURL}/callback/corp`);
        const landed = await browser.follow(first);
        expect([landed.url, landed.body]).toEqual([`${app.baseURL}/page`, '<p>out</p>']);
        expect(app.errors).toEqual([]);
        expect(browser.cookie('127.0.0.1', 'portcullis.skipSilentLogin')?.value).toBe('corp');
        expect((await browser.get(`${app.baseURL}/page`)).status).toBe(200);
      },
    );
  });

  test('a default provider with the option off, under an auth() that has it on, is not tried', async () => {
    await withApp(
      {
        options: { defaultProvider: 'partner', attemptSilentLogin: true },
        provider: (id) => (id === 'partner' ? { attemptSilentLogin: false } : {}),
      },
      async (app) => {
        const res = await pageBrowser().get(`${app.baseURL}/page`);
        expect([res.status, res.body, res.setCookies]).toEqual([200, '<p>out</p>', []]);
      },
    );
  });

  test('without a default provider nothing is tried, and the page is served', async () => {
    await withApp({ options: { attemptSilentLogin: true } }, async (app) => {
      const res = await pageBrowser().get(`${app.baseURL}/page`);
      expect([res.status, res.body, res.setCookies]).toEqual([200, '<p>out</p>', []]);
      expect(app.errors).toEqual([]);
    });
  });
});

describe('resolveProvider: tenants by path', () => {
  let app: SigninApp;
  beforeAll(async () => {
    app = await startAuthApp(
      (baseURL) => {
        corp.allowApp(baseURL, ['/callback/corp']);
        const many = Array.from({ length: 17 }, (_, i) => `t${i + 1}`);
        partner.allowApp(baseURL, [
          '/callback/partner',
          '/callback/quiet',
          ...many.map((t) => `/callback/${t}`),
        ]);
        const tenants: Record<string, ResolvedProvider> = {
          ...Object.fromEntries(
            many.map((id) => [
              id,
              { id, issuerBaseURL: partner.issuer, clientID: 'web', clientSecret: WEB_SECRET },
            ]),
          ),
          a: { id: 'corp', issuerBaseURL: corp.issuer, clientID: 'web', clientSecret: WEB_SECRET },
          b: { id: 'partner', issuerBaseURL: partner.issuer, clientID: 'web', clientSecret: WEB_SECRET },
          c: {
            id: 'quiet',
            issuerBaseURL: partner.issuer,
            clientID: 'web',
            clientSecret: WEB_SECRET,
            attemptSilentLogin: false,
          },
        };
        const byId = new Map(Object.values(tenants).map((t) => [t.id, t]));
        return {
          baseURL,
          attemptSilentLogin: true,
          authorizationParams: { scope: 'openid profile email' },
          resolveProvider: (req, { providerId }) => {
            const tenant = tenants[req.path.split('/')[1] ?? ''];
            if (providerId === undefined) return tenant;
            // A provider recorded in a session or a login counts only on its own tenant's pages.
            return tenant === undefined || tenant.id === providerId ? byId.get(providerId) : undefined;
          },
        };
      },
      { routes: pages },
    );
  });
  afterAll(() => app.close());

  test("each tenant's page tries its own provider, unless that provider turns it off", async () => {
    const atB = await pageBrowser().get(`${app.baseURL}/b/page`);
    expect(new URL(atB.location!).origin).toBe(partner.issuer);
    expect(new URL(atB.location!).searchParams.get('prompt')).toBe('none');
    const atC = await pageBrowser().get(`${app.baseURL}/c/page`);
    expect([atC.status, atC.body]).toEqual([200, '<p>out</p>']);
  });

  test('a browser tried at more tenants than the cookie holds is tried nowhere any more, never in a loop', async () => {
    const browser = pageBrowser();
    const sixteen = Array.from({ length: 16 }, (_, i) => `t${i + 1}`).join('.');
    browser.store(new URL(app.baseURL), `portcullis.skipSilentLogin=${sixteen}; Path=/`);
    expect((await browser.get(`${app.baseURL}/t3/page`)).status).toBe(200);
    const first = await browser.get(`${app.baseURL}/t17/page`);
    expect(new URL(first.location!).searchParams.get('prompt')).toBe('none');
    expect(first.setCookies[0]).toMatch(/^portcullis\.skipSilentLogin=\*; /);
    for (const tenant of ['t17', 'b', 't1']) {
      expect((await browser.get(`${app.baseURL}/${tenant}/page`)).status).toBe(200);
    }
  });

  test("a session of tenant a is not replaced by a silent login on tenant b's pages", async () => {
    const browser = pageBrowser();
    await loginAs(browser, app, { query: '?provider=corp' });
    expect((await browser.get(`${app.baseURL}/a/page`)).body).toBe('<p>in at corp</p>');
    const atB = await browser.get(`${app.baseURL}/b/page`);
    expect([atB.status, atB.body]).toEqual([200, '<p>out</p>']);
    expect((await browser.get(`${app.baseURL}/a/page`)).body).toBe('<p>in at corp</p>');
  });
});
