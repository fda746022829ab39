/**
 * auth({ profile: 'fapi2' }) against an IdP of our own (helpers/rogue-idp.ts) that breaks the FAPI 2.0
 * Security Profile: an authorization response without `iss`, an ID token signed RS256 or issued in
 * the future, and metadata without what the profile needs (no PAR endpoint, no DPoP, ...). Each is
 * refused, saying which rule; the control logs in with PAR, private_key_jwt and DPoP.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type * as jose from 'jose';
import { type SigninEvent, serviceAgent } from '../../lib/index.js';
import { newRsaKey, type RogueIdp, type RogueKey, startRogueIdp } from '../helpers/rogue-idp.js';
import { type SigninApp, startAuthApp, startSigninApp, TestBrowser } from './harness.js';

const clientKey = String(
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
);
let rogue: RogueIdp;
let psKey: RogueKey;
const apps: SigninApp[] = [];
const events: SigninEvent[] = [];

let plainMetadata: Record<string, unknown>;

/**
 * What a FAPI 2.0 IdP advertises: the rogue IdP's own metadata and the profile's fields, but without
 * `authorization_response_iss_parameter_supported`, to show `iss` is required all the same.
 */
function fapiMetadata(): Record<string, unknown> {
  const { authorization_response_iss_parameter_supported: _iss, ...rest } = plainMetadata;
  return {
    ...rest,
    pushed_authorization_request_endpoint: `${rogue.issuer}/par`,
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['PS256', 'ES256'],
    dpop_signing_alg_values_supported: ['ES256', 'PS256'],
    id_token_signing_alg_values_supported: ['PS256', 'ES256', 'RS256'],
  };
}

beforeAll(async () => {
  rogue = await startRogueIdp();
  plainMetadata = rogue.metadata;
  psKey = newRsaKey('ps-key');
  psKey.privateJwk.alg = 'PS256';
  psKey.publicJwk.alg = 'PS256';
  rogue.keys.push(psKey);
});
afterEach(() => {
  rogue.metadata = fapiMetadata();
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await rogue.close();
});

/** A new app (its own discovery cache) with the profile, against the rogue IdP as it is now. */
async function fapiApp(responseMode?: 'jwt'): Promise<SigninApp> {
  const app = await startSigninApp(rogue, {
    options: {
      profile: 'fapi2',
      clientSecret: undefined,
      clientAssertionSigningKey: clientKey,
      onEvent: (event) => events.push(event),
      authorizationParams: {
        scope: 'openid',
        ...(responseMode === undefined ? {} : { response_mode: responseMode }),
      },
    },
  });
  apps.push(app);
  return app;
}

const count = (path: string) => rogue.requests.filter((r) => r.path === path).length;

/** Start a login; the pushed request tells the state and nonce. */
async function begin(app: SigninApp) {
  const browser = new TestBrowser();
  const start = await browser.get(`${app.baseURL}/login`);
  const pushed = new URLSearchParams(rogue.requests.filter((r) => r.path === '/par').at(-1)!.body);
  return { browser, start, pushed, state: pushed.get('state')!, nonce: pushed.get('nonce')! };
}

function idToken(nonce: string, extra: jose.JWTPayload = {}): jose.JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: rogue.issuer, aud: 'web', sub: 'mallory', nonce, iat: now, exp: now + 300, ...extra };
}

function answerWith(token: string): void {
  rogue.token = () => ({
    status: 200,
    body: { access_token: 'bound-access-token', token_type: 'DPoP', expires_in: 300, id_token: token },
  });
}

describe('at an IdP that supports the profile', () => {
  let app: SigninApp;
  beforeAll(async () => {
    rogue.metadata = fapiMetadata();
    app = await fapiApp();
  });

  const callback = (s: Awaited<ReturnType<typeof begin>>, params: Record<string, string>) =>
    s.browser.get(
      `${app.baseURL}/callback?${new URLSearchParams({ code: 'the-code', state: s.state, ...params })}`,
    );

  test('the control: PAR though the IdP does not require it, private_key_jwt, DPoP, iss: signed in', async () => {
    const s = await begin(app);
    expect([...new URL(s.start.location!).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(s.pushed.get('code_challenge_method')).toBe('S256');
    expect(s.pushed.get('dpop_jkt')).toMatch(/^[\w-]{43}$/);
    answerWith(await rogue.sign(idToken(s.nonce), { key: psKey, header: { alg: 'PS256' } }));
    const res = await callback(s, { iss: rogue.issuer });
    expect(res.status).toBe(302);
    const token = rogue.requests.filter((r) => r.path === '/token').at(-1)!;
    expect(new URLSearchParams(token.body).get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expect(token.headers.dpop).toBeDefined();
    expect(JSON.parse((await s.browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
  });

  test('an authorization response without iss is refused, and the code goes nowhere', async () => {
    const s = await begin(app);
    answerWith(await rogue.sign(idToken(s.nonce), { key: psKey, header: { alg: 'PS256' } }));
    const before = count('/token');
    const res = await callback(s, {});
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.code).toBe('ERR_ISSUER_MISMATCH');
    expect(body.message).toContain('the callback has no "iss" parameter (RFC 9207)');
    expect(body.message).toContain('rule "fapi2-iss"');
    expect(count('/token')).toBe(before);
  });

  test('an ID token signed RS256 is refused, although the IdP advertises RS256', async () => {
    const s = await begin(app);
    answerWith(await rogue.sign(idToken(s.nonce)));
    const res = await callback(s, { iss: rogue.issuer });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'ERR_ID_TOKEN_INVALID',
      message: 'ID token: its "alg" is not allowed',
    });
    expect(JSON.parse((await s.browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(false);
  });

  test.each([
    ['90 s in the future: refused', 90, 400],
    ['10 s in the future: accepted', 10, 302],
  ])('an ID token issued %s', async (_name, ahead, status) => {
    const s = await begin(app);
    const iat = Math.floor(Date.now() / 1000) + ahead;
    answerWith(await rogue.sign(idToken(s.nonce, { iat }), { key: psKey, header: { alg: 'PS256' } }));
    const res = await callback(s, { iss: rogue.issuer });
    expect(res.status).toBe(status);
    if (status === 400) {
      expect(JSON.parse(res.body).message).toMatch(/^ID token: issued in the future \("iat"\)/);
      expect(events.at(-1)).toMatchObject({ type: 'signin.login.failed', reason: 'iat', received: iat });
    }
  });
});

describe('a JWT response (JARM) under the profile', () => {
  let app: SigninApp;
  beforeAll(async () => {
    rogue.metadata = {
      ...fapiMetadata(),
      response_modes_supported: ['query', 'jwt'],
      authorization_signing_alg_values_supported: ['RS256', 'PS256'],
    };
    app = await fapiApp('jwt');
  });

  const jarm = async (s: Awaited<ReturnType<typeof begin>>, alg: 'RS256' | 'PS256') => {
    const claims = { iss: rogue.issuer, aud: 'web', exp: Math.floor(Date.now() / 1000) + 300 };
    const response = await rogue.sign(
      { ...claims, code: 'the-code', state: s.state },
      alg === 'PS256' ? { key: psKey, header: { alg } } : {},
    );
    return s.browser.get(`${app.baseURL}/callback?${new URLSearchParams({ response })}`);
  };

  test('signed RS256, which the IdP advertises, it is refused before its code is used', async () => {
    const s = await begin(app);
    const before = count('/token');
    const res = await jarm(s, 'RS256');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).code).toBe('ERR_JARM_INVALID');
    expect(count('/token')).toBe(before);
  });

  test('signed PS256, it signs the user in (the control)', async () => {
    const s = await begin(app);
    answerWith(await rogue.sign(idToken(s.nonce), { key: psKey, header: { alg: 'PS256' } }));
    expect((await jarm(s, 'PS256')).status).toBe(302);
  });
});

describe('an IdP whose metadata lacks what the profile needs: ERR_IDP_INCOMPATIBLE at login, naming the rule', () => {
  test.each<[string, Record<string, unknown>, string, string]>([
    [
      'no PAR endpoint',
      { pushed_authorization_request_endpoint: undefined },
      'fapi2-par',
      '"pushed_authorization_request_endpoint"',
    ],
    ['no S256', { code_challenge_methods_supported: ['plain'] }, 'fapi2-pkce', 'does not list S256'],
    ['no PKCE at all', { code_challenge_methods_supported: undefined }, 'fapi2-pkce', 'does not list S256'],
    [
      'no private_key_jwt',
      { token_endpoint_auth_methods_supported: ['client_secret_basic'] },
      'fapi2-client-auth',
      'does not list private_key_jwt',
    ],
    [
      'no ES256 client assertions',
      { token_endpoint_auth_signing_alg_values_supported: ['PS256'] },
      'fapi2-client-auth',
      'does not list ES256',
    ],
    [
      'no DPoP',
      { dpop_signing_alg_values_supported: undefined },
      'fapi2-sender-constrained',
      'it takes no DPoP',
    ],
    [
      'no ES256 proofs',
      { dpop_signing_alg_values_supported: ['PS256'] },
      'fapi2-sender-constrained',
      'does not list ES256',
    ],
    [
      'RS256 ID tokens only',
      { id_token_signing_alg_values_supported: ['RS256'] },
      'fapi2-algorithms',
      '(RS256) has none of',
    ],
  ])('%s', async (_name, change, rule, field) => {
    rogue.metadata = { ...fapiMetadata(), ...change };
    const app = await fapiApp();
    const pushed = count('/par');
    const res = await new TestBrowser().get(`${app.baseURL}/login`);
    expect(res.status).toBe(500);
    const body = JSON.parse(res.body);
    expect(body.code).toBe('ERR_IDP_INCOMPATIBLE');
    expect(body.message).toContain(`the IdP ${rogue.issuer} cannot be used with profile "fapi2": `);
    expect(body.message).toContain(field);
    expect(body.message).toContain(`rule "${rule}"`);
    expect(count('/par')).toBe(pushed);
  });

  test("serviceAgent({ profile: 'fapi2' }): at the first token request, before it is sent", async () => {
    rogue.metadata = { ...fapiMetadata(), dpop_signing_alg_values_supported: undefined };
    const agent = serviceAgent({
      profile: 'fapi2',
      issuerBaseURL: rogue.issuer,
      clientID: 'worker',
      clientAssertionSigningKey: clientKey,
    });
    const tokens = count('/token');
    try {
      await expect(agent.getToken()).rejects.toMatchObject({
        code: 'ERR_IDP_INCOMPATIBLE',
        message: expect.stringContaining('rule "fapi2-sender-constrained"'),
      });
      expect(count('/token')).toBe(tokens);
    } finally {
      await agent.close();
    }
  });
});

test('resolveProvider: the profile holds each provider it returns, refused at its first login before any call', async () => {
  const app = await startAuthApp(
    (baseURL) => ({
      profile: 'fapi2',
      baseURL,
      resolveProvider: () => ({
        id: 'tenant',
        issuerBaseURL: rogue.issuer,
        clientID: 'web',
        clientSecret: 's3cret',
      }),
    }),
    {},
  );
  apps.push(app);
  const before = rogue.requests.length;
  const res = await new TestBrowser().get(`${app.baseURL}/login`);
  expect(res.status).toBe(500);
  expect(app.errors.at(-1)?.message).toMatch(
    /^auth\(\): "resolveProvider\(tenant\)\.clientSecret" is set: .* \(profile "fapi2", rule "fapi2-client-auth"/,
  );
  expect(rogue.requests.length).toBe(before);
});
