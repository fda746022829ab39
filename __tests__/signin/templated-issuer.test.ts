/**
 * Sign-in at a templated issuer (Entra ID's `/organizations/v2.0`: metadata `issuer` with
 * `{tenantid}`), against an Entra-shaped IdP of our own. The ID token's `iss` must be the template
 * with its own `tid`, and `allowedTenants` decides which organisations' users may sign in.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { AuthOptions } from '../../lib/index.js';
import { startTenantIdp, type TenantIdp } from '../helpers/tenant-idp.js';
import { type SigninApp, startAuthApp, TestBrowser } from './harness.js';

const ALLOWED = '11111111-1111-1111-1111-111111111111';
const OTHER = '22222222-2222-2222-2222-222222222222';

let idp: TenantIdp;
/** The claims of the next ID token the IdP issues (a login's nonce is added). */
let next: { tid?: string; iss?: string } = {};
const nonces = new Map<string, string>();

beforeAll(async () => {
  idp = await startTenantIdp();
  idp.tokenAnswer = async (_issuerPath, form) => {
    const now = Math.floor(Date.now() / 1000);
    const tid = next.tid;
    const idToken = await idp.sign({
      iss: next.iss ?? idp.tenantIssuer(tid ?? 'none'),
      ...(tid === undefined ? {} : { tid }),
      aud: 'web',
      sub: 'user-1',
      nonce: nonces.get(form.get('code') ?? ''),
      iat: now,
      exp: now + 300,
    });
    return {
      status: 200,
      body: { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: idToken },
    };
  };
});
afterAll(() => idp.close());

async function appWith(options: Partial<AuthOptions>): Promise<SigninApp> {
  return startAuthApp(
    (baseURL) =>
      ({
        baseURL,
        authorizationParams: { scope: 'openid' },
        ...(options.providers === undefined
          ? { issuerBaseURL: idp.organizations, clientID: 'web', clientSecret: 'entra-secret-0123456789' }
          : {}),
        ...options,
      }) as AuthOptions,
    {},
  );
}

/** A login and its callback, the IdP answering with `claims`; returns the callback and who is signed in. */
async function login(
  app: SigninApp,
  claims: { tid?: string; iss?: string },
  { path = '/callback', query = '', issParam }: { path?: string; query?: string; issParam?: string } = {},
) {
  const browser = new TestBrowser();
  const start = new URL((await browser.get(`${app.baseURL}/login${query}`)).location!);
  expect(start.pathname).toMatch(/\/organizations\/v2\.0\/authorize$/);
  const code = `code-${Math.random()}`;
  nonces.set(code, start.searchParams.get('nonce')!);
  next = claims;
  const params = new URLSearchParams({ code, state: start.searchParams.get('state')! });
  if (issParam !== undefined) params.set('iss', issParam);
  const res = await browser.get(`${app.baseURL}${path}?${params}`);
  const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
  return { status: res.status, body: res.status === 302 ? {} : JSON.parse(res.body), me };
}

describe('a templated issuer at sign-in', () => {
  let app: SigninApp;
  beforeAll(async () => {
    app = await appWith({ allowedTenants: [ALLOWED] });
  });
  afterAll(() => app.close());

  test("a user of an allowed tenant signs in; the ID token's iss is that tenant's", async () => {
    const res = await login(app, { tid: ALLOWED });
    expect(res.status).toBe(302);
    expect(res.me).toMatchObject({
      authenticated: true,
      claims: { tid: ALLOWED, iss: idp.tenantIssuer(ALLOWED) },
    });
  });

  test('a user of another tenant is refused (403 ERR_LOGIN_REFUSED) and stays signed out', async () => {
    const res = await login(app, { tid: OTHER });
    expect(res).toMatchObject({
      status: 403,
      body: { code: 'ERR_LOGIN_REFUSED' },
      me: { authenticated: false },
    });
  });

  test('an ID token whose iss is not the template with its own tid is refused', async () => {
    for (const claims of [
      { tid: ALLOWED, iss: idp.tenantIssuer(OTHER) },
      { tid: ALLOWED, iss: idp.template },
      { iss: idp.tenantIssuer(ALLOWED) },
    ]) {
      const res = await login(app, claims);
      expect(res).toMatchObject({
        status: 400,
        body: { code: 'ERR_ID_TOKEN_INVALID' },
        me: { authenticated: false },
      });
    }
  });

  test('an iss parameter (RFC 9207) of a tenant not allowed is refused before the code is exchanged', async () => {
    const tokenRequests = idp.count('/organizations/v2.0/token');
    const res = await login(app, { tid: OTHER }, { issParam: idp.tenantIssuer(OTHER) });
    expect(res).toMatchObject({
      status: 400,
      body: { code: 'ERR_ISSUER_MISMATCH' },
      me: { authenticated: false },
    });
    expect(idp.count('/organizations/v2.0/token')).toBe(tokenRequests);
  });

  test("an iss parameter (RFC 9207) naming one tenant, with another tenant's ID token: a mix-up", async () => {
    const both = await appWith({ allowedTenants: [ALLOWED, OTHER] });
    try {
      const ok = await login(both, { tid: ALLOWED }, { issParam: idp.tenantIssuer(ALLOWED) });
      expect(ok.status).toBe(302);
      const res = await login(both, { tid: OTHER }, { issParam: idp.tenantIssuer(ALLOWED) });
      expect(res).toMatchObject({
        status: 400,
        body: { code: 'ERR_ISSUER_MISMATCH' },
        me: { authenticated: false },
      });
    } finally {
      await both.close();
    }
  });
});

describe('allowedTenants: none, a predicate, the environment, per provider', () => {
  test('without allowedTenants no tenant signs in, and the message says what to set', async () => {
    const app = await appWith({});
    try {
      const res = await login(app, { tid: ALLOWED });
      expect(res).toMatchObject({ status: 403, body: { code: 'ERR_LOGIN_REFUSED' } });
      expect(res.body.message).toMatch(/"allowedTenants" is not set/);
    } finally {
      await app.close();
    }
  });

  test('a predicate, and ALLOWED_TENANTS', async () => {
    const byPredicate = await appWith({ allowedTenants: (tid) => tid === OTHER });
    process.env['ALLOWED_TENANTS'] = ALLOWED;
    const byEnv = await appWith({});
    delete process.env['ALLOWED_TENANTS'];
    try {
      expect((await login(byPredicate, { tid: OTHER })).status).toBe(302);
      expect((await login(byPredicate, { tid: ALLOWED })).status).toBe(403);
      expect((await login(byEnv, { tid: ALLOWED })).status).toBe(302);
    } finally {
      await Promise.all([byPredicate.close(), byEnv.close()]);
    }
  });

  test("a provider's own allowedTenants", async () => {
    const app = await appWith({
      providers: {
        entra: {
          issuerBaseURL: idp.organizations,
          clientID: 'web',
          clientSecret: 'entra-secret-0123456789',
          allowedTenants: [OTHER],
        },
      },
      allowedTenants: [ALLOWED],
    });
    try {
      const where = { path: '/callback/entra', query: '?provider=entra' };
      expect((await login(app, { tid: OTHER }, where)).status).toBe(302);
      expect((await login(app, { tid: ALLOWED }, where)).status).toBe(403);
    } finally {
      await app.close();
    }
  });
});

test("back-channel logout tokens from a templated issuer: the tenant's iss, an allowed tid", async () => {
  const app = await appWith({ allowedTenants: [ALLOWED], backchannelLogout: true });
  const now = Math.floor(Date.now() / 1000);
  const logoutToken = (tid: string) =>
    idp.sign(
      {
        iss: idp.tenantIssuer(tid),
        tid,
        aud: 'web',
        sub: 'user-1',
        iat: now,
        exp: now + 60,
        jti: `jti-${tid}-${Math.random()}`,
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      },
      { typ: 'logout+jwt' },
    );
  const post = async (token: string) =>
    (
      await fetch(`${app.baseURL}/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ logout_token: token }),
      })
    ).status;
  try {
    expect(await post(await logoutToken(ALLOWED))).toBe(200);
    expect(await post(await logoutToken(OTHER))).toBe(400);
  } finally {
    await app.close();
  }
});
