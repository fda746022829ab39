/**
 * auth({ resolveProvider }): dynamic tenants. By host (two real oidc-provider tenants, at 127.0.0.1
 * and at localhost, each provider with its own baseURL) and by a tenant lookup (`?provider=` at login,
 * `{ providerId }` afterwards). Only issuers the resolver returns are ever contacted: a tenant it no
 * longer returns is signed out without a request, and an `iss` naming an attacker fetches nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ResolvedProvider } from '../../lib/index.js';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';
import { type SigninApp, startAuthApp, TestBrowser } from './harness.js';

let corp: TestIdp;
let partner: TestIdp;
let attacker: RogueIdp;
beforeAll(async () => {
  [corp, partner, attacker] = await Promise.all([startIdp(), startIdp(), startRogueIdp()]);
});
afterAll(async () => {
  await Promise.all([corp.close(), partner.close(), attacker.close()]);
});

const me = async (browser: TestBrowser, base: string) => JSON.parse((await browser.get(`${base}/me`)).body);

/** Every URL the app called at an IdP. */
function counting(): { calls: string[]; fetch: typeof fetch } {
  const calls: string[] = [];
  return {
    calls,
    fetch: (input, init) => {
      calls.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    },
  };
}

describe('tenants by host, each provider with its own host in baseURL', () => {
  let app: SigninApp;
  let hostBase: string;
  beforeAll(async () => {
    app = await startAuthApp((baseURL) => {
      hostBase = baseURL.replace('127.0.0.1', 'localhost');
      corp.allowApp(baseURL, ['/callback/corp']);
      partner.allowApp(hostBase, ['/callback/partner']);
      const tenants: Record<string, ResolvedProvider> = {
        '127.0.0.1': { id: 'corp', issuerBaseURL: corp.issuer, clientID: 'web', clientSecret: WEB_SECRET },
        localhost: {
          id: 'partner',
          issuerBaseURL: partner.issuer,
          baseURL: hostBase,
          clientID: 'web',
          clientSecret: WEB_SECRET,
        },
      };
      return { baseURL, resolveProvider: (req) => tenants[(req.headers.host ?? '').split(':')[0]!] };
    }, {});
  });
  afterAll(() => app.close());

  test('each host signs in at its own IdP, and a session is valid only on its own tenant', async () => {
    const browser = new TestBrowser();
    for (const [base, provider, idp] of [
      [app.baseURL, 'corp', corp],
      [hostBase, 'partner', partner],
    ] as const) {
      const start = await browser.get(`${base}/login`);
      expect(new URL(start.location!).origin).toBe(idp.issuer);
      expect(new URL(start.location!).searchParams.get('redirect_uri')).toBe(`${base}/callback/${provider}`);
      await signInAtIdp(browser, start.location!);
      expect(await me(browser, base)).toMatchObject({
        authenticated: true,
        provider,
        claims: { iss: idp.issuer },
      });
    }
    // corp's session cookie presented at partner's host (a cookie shared across subdomains): no login there.
    const corpSid = browser.cookie('127.0.0.1', 'sid')!.value;
    const crossed = await fetch(`${hostBase}/me`, { headers: { cookie: `sid=${corpSid}` } });
    expect(await crossed.json()).toMatchObject({ authenticated: false });
  });
});

describe('tenants by lookup: ?provider= at login, { providerId } afterwards', () => {
  let app: SigninApp;
  const outbound = counting();
  const tenants = new Map<string, ResolvedProvider>();
  const asked: Array<string | undefined> = [];
  beforeAll(async () => {
    app = await startAuthApp((baseURL) => {
      for (const [id, idp] of [
        ['corp', corp],
        ['partner', partner],
      ] as const) {
        idp.allowApp(baseURL, [`/callback/${id}`]);
        tenants.set(id, { id, issuerBaseURL: idp.issuer, clientID: 'web', clientSecret: WEB_SECRET });
      }
      return {
        baseURL,
        fetch: outbound.fetch,
        authorizationParams: { scope: 'openid profile email offline_access' },
        resolveProvider: (_req, { providerId }) => {
          asked.push(providerId);
          if (providerId === 'liar') return tenants.get('corp'); // answers with another tenant's provider
          return providerId === undefined ? undefined : tenants.get(providerId);
        },
      };
    }, {});
  });
  afterAll(() => app.close());

  async function loginAt(provider: string): Promise<TestBrowser> {
    const browser = new TestBrowser();
    const start = await browser.get(`${app.baseURL}/login?provider=${provider}`);
    await signInAtIdp(browser, start.location!, { callbackPath: `/callback/${provider}` });
    return browser;
  }

  test('a login, then refresh and userinfo at the tenant the session names', async () => {
    const browser = await loginAt('partner');
    asked.length = 0;
    outbound.calls.length = 0;
    expect(await me(browser, app.baseURL)).toMatchObject({ authenticated: true, provider: 'partner' });
    expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
    expect((await browser.get(`${app.baseURL}/userinfo`)).status).toBe(200);
    expect(new Set(asked)).toEqual(new Set(['partner']));
    expect(outbound.calls.every((url) => url.startsWith(partner.issuer))).toBe(true);
  });

  test('a resolver that builds a new definition on every call reuses the provider and its metadata', async () => {
    let scope = 'openid profile';
    const fresh = await startAuthApp((baseURL) => {
      corp.allowApp(baseURL, ['/callback/corp']);
      return {
        baseURL,
        fetch: outbound.fetch,
        // A new object, and a new secret function, on every call: as from a database row.
        resolveProvider: () => ({
          id: 'corp',
          issuerBaseURL: corp.issuer,
          clientID: 'web',
          clientSecret: () => WEB_SECRET,
          authorizationParams: { scope },
        }),
      };
    }, {});
    try {
      outbound.calls.length = 0;
      for (let i = 0; i < 3; i++) {
        const browser = new TestBrowser();
        const start = await browser.get(`${fresh.baseURL}/login`);
        await signInAtIdp(browser, start.location!, { callbackPath: '/callback/corp' });
        expect(await me(browser, fresh.baseURL)).toMatchObject({ authenticated: true, provider: 'corp' });
      }
      expect(outbound.calls.filter((url) => url.includes('/.well-known/')).length).toBe(1);
      // Changed settings make a new provider: its logins ask for the new scope.
      scope = 'openid email';
      const start = new URL((await new TestBrowser().get(`${fresh.baseURL}/login`)).location!);
      expect(start.searchParams.get('scope')).toBe('openid email');
    } finally {
      await fresh.close();
    }
  });

  test('no tenant for the request is a 404 ERR_UNKNOWN_PROVIDER, and nothing is fetched', async () => {
    outbound.calls.length = 0;
    for (const query of ['', '?provider=nobody', '?provider=liar']) {
      const res = await new TestBrowser().get(`${app.baseURL}/login${query}`);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body).code).toBe('ERR_UNKNOWN_PROVIDER');
    }
    expect(outbound.calls).toEqual([]);
  });

  test('a tenant the resolver no longer returns is signed out, with no request to its issuer', async () => {
    const browser = await loginAt('partner');
    const partnerTenant = tenants.get('partner')!;
    tenants.delete('partner');
    try {
      outbound.calls.length = 0;
      expect(await me(browser, app.baseURL)).toMatchObject({ authenticated: false });
      const refresh = await browser.post(`${app.baseURL}/refresh`, {});
      expect(refresh.status).toBe(401);
      expect(JSON.parse(refresh.body).code).toBe('ERR_NOT_AUTHENTICATED');
      expect(outbound.calls).toEqual([]);
    } finally {
      tenants.set('partner', partnerTenant);
    }
  });

  test("an iss naming an attacker's issuer at the callback fetches nothing from it", async () => {
    const browser = new TestBrowser();
    const start = new URL((await browser.get(`${app.baseURL}/login?provider=corp`)).location!);
    outbound.calls.length = 0;
    const before = attacker.requests.length;
    const res = await browser.get(
      `${app.baseURL}/callback/corp?${new URLSearchParams({ code: 'c', state: start.searchParams.get('state')!, iss: attacker.issuer })}`,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_ISSUER_MISMATCH');
    expect(outbound.calls).toEqual([]);
    expect(attacker.requests.length).toBe(before);
  });

  test('a resolver that returns no provider object is a 500 naming the mistake, never a request', async () => {
    const broken = await startAuthApp(
      (baseURL) => ({ baseURL, resolveProvider: () => 'corp' as unknown as ResolvedProvider }),
      {},
    );
    try {
      const res = await new TestBrowser().get(`${broken.baseURL}/login`);
      expect(res.status).toBe(500);
      expect(broken.errors.at(-1)?.message).toMatch(/resolveProvider must return a provider/);
    } finally {
      await broken.close();
    }
  });
});
