/**
 * auth({ providers }): two real oidc-provider instances in one app. One browser signs in at each, one
 * after the other; each provider's own settings (DPoP at one, PAR at the other) apply to its logins;
 * refresh, userinfo, logout and step-up follow the session's provider; `?provider=` picks one and
 * refuses an unknown id; the configuration is checked at start-up.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type AuthOptions, auth, requiresAuth } from '../../lib/index.js';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';
import { type SigninApp, startProvidersApp, TestBrowser } from './harness.js';

let corp: TestIdp;
let partner: TestIdp;
let app: SigninApp;
/** Every URL the app called at an IdP, in order. */
const called: string[] = [];

beforeAll(async () => {
  [corp, partner] = await Promise.all([startIdp(), startIdp()]);
  app = await startProvidersApp(
    { corp, partner },
    {
      options: {
        defaultProvider: 'corp',
        idpLogout: true,
        fetch: (input, init) => {
          called.push(String(input instanceof Request ? input.url : input));
          return fetch(input, init);
        },
      },
      provider: (id) => (id === 'corp' ? { dpop: true } : { pushedAuthorizationRequests: true }),
      routes: (app) => {
        app.get('/partner-login', (_req, res) => {
          void res.oidc.login({ provider: 'partner', returnTo: '/me' });
        });
        app.get('/nobody-login', (_req, res) => {
          void res.oidc.login({ provider: 'nobody' });
        });
        app.get('/strong', requiresAuth({ acrValues: ['urn:example:mfa'] }), (_req, res) => {
          res.json({ ok: true });
        });
      },
    },
  );
});
afterAll(async () => {
  await app.close();
  await Promise.all([corp.close(), partner.close()]);
});

async function loginAt(browser: TestBrowser, provider: string | undefined, login = 'alice') {
  const query = provider === undefined ? '' : `?provider=${provider}`;
  const start = await browser.get(`${app.baseURL}/login${query}`);
  expect(start.status).toBe(302);
  const { callback, result } = await signInAtIdp(browser, start.location!, {
    login,
    callbackPath: `/callback/${provider ?? 'corp'}`,
  });
  return { start: new URL(start.location!), callback: new URL(callback.url), result: result! };
}

const me = async (browser: TestBrowser) => JSON.parse((await browser.get(`${app.baseURL}/me`)).body);

describe('two IdPs, one app', () => {
  test('one browser signs in at each provider, one after the other', async () => {
    const browser = new TestBrowser();
    const first = await loginAt(browser, 'corp');
    expect(first.start.origin).toBe(corp.issuer);
    expect(first.callback.pathname).toBe('/callback/corp');
    expect(first.result.status).toBe(302);
    const atCorp = await me(browser);
    expect(atCorp).toMatchObject({
      authenticated: true,
      provider: 'corp',
      claims: { iss: corp.issuer, sub: 'alice' },
    });

    const second = await loginAt(browser, 'partner', 'bob');
    expect(second.callback.pathname).toBe('/callback/partner');
    const atPartner = await me(browser);
    expect(atPartner).toMatchObject({
      authenticated: true,
      provider: 'partner',
      claims: { iss: partner.issuer, sub: 'bob' },
    });
    expect(atPartner.sessionID).not.toBe(atCorp.sessionID); // a new session id at each login
  });

  test("each provider's own settings: DPoP-bound tokens from corp, PAR at partner", async () => {
    const browser = new TestBrowser();
    const atCorp = await loginAt(browser, 'corp');
    expect(atCorp.start.searchParams.get('dpop_jkt')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(atCorp.start.searchParams.get('redirect_uri')).toBe(`${app.baseURL}/callback/corp`);
    expect((await me(browser)).token_type).toBe('DPoP');
    // The session's DPoP key goes with its refresh: the new tokens are bound too.
    expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
    expect((await me(browser)).token_type).toBe('DPoP');

    const atPartner = await loginAt(browser, 'partner');
    expect([...atPartner.start.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect((await me(browser)).token_type).toBe('Bearer');
  });

  test("refresh, userinfo and logout use the session's provider, and only it", async () => {
    const browser = new TestBrowser();
    await loginAt(browser, 'partner');
    called.length = 0;
    expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
    const info = await browser.get(`${app.baseURL}/userinfo`);
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body).sub).toBe('alice');
    expect(called.length).toBeGreaterThan(0);
    expect(called.every((url) => url.startsWith(partner.issuer))).toBe(true);
    const out = await browser.post(`${app.baseURL}/logout`, {});
    expect(new URL(out.location!).origin).toBe(partner.issuer);
    expect(new URL(out.location!).pathname).toBe('/session/end');
  });

  test("a step-up goes back to the session's provider, not to the default one", async () => {
    const browser = new TestBrowser();
    await loginAt(browser, 'partner');
    const stepUp = new URL((await browser.get(`${app.baseURL}/strong`)).location!);
    expect(stepUp.origin).toBe(partner.issuer);
    expect(stepUp.searchParams.get('request_uri')).toMatch(/^urn:/); // partner's PAR: acr_values went in the push
  });

  test('res.oidc.login({ provider }) and the default provider', async () => {
    const browser = new TestBrowser();
    const viaRoute = await browser.get(`${app.baseURL}/partner-login`);
    expect(new URL(viaRoute.location!).origin).toBe(partner.issuer);
    const byDefault = await browser.get(`${app.baseURL}/login`);
    expect(new URL(byDefault.location!).origin).toBe(corp.issuer);
    const protectedPage = await browser.get(`${app.baseURL}/profile`);
    expect(new URL(protectedPage.location!).origin).toBe(corp.issuer);
  });

  test('an unknown provider is a 400 ERR_UNKNOWN_PROVIDER that names the ones there are', async () => {
    const browser = new TestBrowser();
    for (const url of [`${app.baseURL}/login?provider=nobody`, `${app.baseURL}/nobody-login`]) {
      const res = await browser.get(url);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_UNKNOWN_PROVIDER' });
      expect(JSON.parse(res.body).message).toMatch(/corp, partner/);
    }
  });

  test('without defaultProvider, a login must say which provider', async () => {
    const noDefault = await startProvidersApp({ corp, partner });
    try {
      const res = await new TestBrowser().get(`${noDefault.baseURL}/login`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_UNKNOWN_PROVIDER' });
      expect(JSON.parse(res.body).message).toMatch(/\?provider=corp, \?provider=partner/);
    } finally {
      await noDefault.close();
    }
  });

  test('a session made at a provider that is no longer configured is no session', async () => {
    const browser = new TestBrowser();
    await loginAt(browser, 'partner');
    // The same session store and cookie, behind an app that has only corp now.
    const onlyCorp = await startProvidersApp({ corp }, { store: app.store });
    try {
      expect(await me(browser)).toMatchObject({ authenticated: true, provider: 'partner' });
      const there = JSON.parse((await browser.get(`${onlyCorp.baseURL}/me`)).body);
      expect(there).toMatchObject({ authenticated: false });
      expect(there.provider).toBeUndefined();
    } finally {
      await onlyCorp.close();
    }
  });
});

describe('providers: configuration errors at start-up', () => {
  const base = { baseURL: 'https://app.example' };
  const provider = { issuerBaseURL: 'https://idp.example', clientID: 'web', clientSecret: WEB_SECRET };
  test.each<[string, AuthOptions, string]>([
    [
      'a top-level issuer beside providers',
      { baseURL: base.baseURL, issuerBaseURL: 'https://idp.example', providers: { corp: provider } },
      '"issuerBaseURL" goes inside each provider when "providers" is set',
    ],
    [
      'an id that cannot be a path segment',
      { baseURL: base.baseURL, providers: { 'corp idp': provider } },
      '"providers" ids ("corp idp") must be 1 to 64 letters, digits, "-" or "_"',
    ],
    [
      'a defaultProvider that is none of them',
      { baseURL: base.baseURL, providers: { corp: provider }, defaultProvider: 'partner' },
      '"defaultProvider" must be one of "providers": corp',
    ],
    [
      'a provider without an issuer',
      { baseURL: base.baseURL, providers: { corp: { clientID: 'web', clientSecret: WEB_SECRET } } },
      '"providers.corp.issuerBaseURL" is required',
    ],
    [
      'a provider without its secret',
      {
        baseURL: base.baseURL,
        providers: { corp: { issuerBaseURL: 'https://idp.example', clientID: 'web' } },
      },
      '"providers.corp.clientSecret" is required for the "clientAuthMethod" "client_secret_basic"',
    ],
    [
      'a misspelt option in a provider',
      { baseURL: base.baseURL, providers: { corp: { ...provider, issuerBaseUrl: 'x' } as never } },
      'auth() has no option "providers.corp.issuerBaseUrl"; did you mean "providers.corp.issuerBaseURL"?',
    ],
    [
      "a provider's baseURL on another path",
      {
        baseURL: base.baseURL,
        providers: { corp: { ...provider, baseURL: 'https://acme.app.example/app' } },
      },
      '"providers.corp.baseURL" may differ from auth()\'s "baseURL" (https://app.example/) only in its host: same scheme and path',
    ],
    [
      'providers and resolveProvider together',
      { baseURL: base.baseURL, providers: { corp: provider }, resolveProvider: () => undefined },
      '"providers" and "resolveProvider" cannot be combined: resolveProvider may return any provider',
    ],
    [
      'the callback route at the root',
      { baseURL: base.baseURL, providers: { corp: provider }, routes: { callback: '/' } },
      '"routes.callback" cannot be "/" with several providers: each has its own routes.callback/<id>',
    ],
  ])('%s', (_name, options, message) => {
    expect(() => auth(options)).toThrow(new TypeError(message));
  });

  test("the environment's IdP settings join no provider", () => {
    const saved = { ...process.env };
    Object.assign(process.env, { ISSUER_BASE_URL: 'https://elsewhere.example', CLIENT_SECRET: 'from-env' });
    try {
      // Without its own secret, the provider is incomplete: CLIENT_SECRET was not taken.
      expect(() =>
        auth({
          baseURL: base.baseURL,
          providers: { corp: { issuerBaseURL: 'https://idp.example', clientID: 'web' } },
        }),
      ).toThrow('"providers.corp.clientSecret" is required');
      expect(() => auth({ baseURL: base.baseURL, providers: { corp: provider } })).not.toThrow();
    } finally {
      process.env = saved;
    }
  });
});
