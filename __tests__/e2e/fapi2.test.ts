/**
 * The FAPI 2.0 Security Profile end to end, against oidc-provider configured for it (helpers/fapi-idp.ts):
 * a user signs in with auth({ profile: 'fapi2' }) (PAR, PKCE S256, private_key_jwt, DPoP-bound
 * tokens, `iss` checked), the app calls its API through bearer({ profile: 'fapi2' }), and a worker
 * with serviceAgent({ profile: 'fapi2' }) does too. A plain Bearer token, and the bound token sent
 * without its proof, are refused with the reason told to the operator.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { bearer, type LogDetails, type Logger, serviceAgent } from '../../lib/index.js';
import { startFapiIdp } from '../helpers/fapi-idp.js';
import { API_AUDIENCE, SERVICE_SECRET, type TestIdp } from '../helpers/idp.js';
import { ordersRoutes } from '../helpers/orders-routes.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from '../signin/harness.js';

/** What the workers ask for: the API's orders. */
const ORDERS = { resource: API_AUDIENCE, scope: 'orders:read' };
let idp: TestIdp;
let app: SigninApp;
let apiBase = '';
const refusals: LogDetails[] = [];
const apiLogger: Logger = { warn() {}, info: (details) => refusals.push(details) };

beforeAll(async () => {
  idp = await startFapiIdp({ dpopNonce: true });
  app = await startSigninApp(idp, {
    options: (baseURL) => {
      apiBase = baseURL;
      return {
        profile: 'fapi2',
        clientID: 'web-jwt',
        clientSecret: undefined,
        clientAssertionSigningKey: idp.clientKey.pem,
        authorizationParams: { scope: 'openid offline_access orders:read', resource: API_AUDIENCE },
      };
    },
    routes: (a) => {
      a.use(
        '/api',
        bearer({
          profile: 'fapi2',
          issuerBaseURL: idp.issuer,
          audience: API_AUDIENCE,
          baseURL: apiBase,
          logger: apiLogger,
        }),
      );
      ordersRoutes(a, () => apiBase);
    },
  });
});
afterAll(async () => {
  await app.close();
  await idp.close();
});

describe("auth({ profile: 'fapi2' }) at a FAPI 2.0 IdP", () => {
  let browser: TestBrowser;
  let login: Awaited<ReturnType<typeof loginAs>>;
  beforeAll(async () => {
    browser = new TestBrowser();
    login = await loginAs(browser, app);
  });

  test('the authorization request is pushed: the browser carries only client_id and request_uri', () => {
    const url = new URL(login.start.location!);
    expect(url.origin).toBe(idp.issuer);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(url.searchParams.get('client_id')).toBe('web-jwt');
  });

  test('the IdP sends iss with the code (checked), and the user is signed in with DPoP-bound tokens', async () => {
    expect(new URL(login.callback.url).searchParams.get('iss')).toBe(idp.issuer);
    expect(login.result.status).toBe(302);
    const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
    expect(me).toMatchObject({ authenticated: true, token_type: 'DPoP', user: { sub: 'alice' } });
  });

  test("the user's token reaches bearer({ profile: 'fapi2' }) with fresh proofs", async () => {
    const answer = await browser.get(`${app.baseURL}/orders`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ sub: 'alice', jkt: expect.any(String) });
  });

  test('the same token without its proof, as Bearer, is refused', async () => {
    const { token } = JSON.parse((await browser.get(`${app.baseURL}/token`)).body) as { token: string };
    const stolen = await fetch(`${apiBase}/api/orders`, { headers: { authorization: `Bearer ${token}` } });
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });
});

describe("bearer({ profile: 'fapi2' })", () => {
  test('refuses a valid Bearer token that is not sender-constrained: 401 invalid_token, reason unbound', async () => {
    // The `service` client (client_secret_basic, no DPoP) gets a plain Bearer token for the API.
    const plain = serviceAgent({
      issuerBaseURL: idp.issuer,
      clientID: 'service',
      clientSecret: SERVICE_SECRET,
      ...ORDERS,
    });
    try {
      const { access_token, token_type } = await plain.getToken();
      expect(token_type).toBe('Bearer');
      refusals.length = 0;
      const res = await fetch(`${apiBase}/api/orders`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: 'invalid_token',
        error_description:
          'the token is not sender-constrained: this API accepts only DPoP-bound or certificate-bound tokens',
      });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="invalid_token"/);
      expect(refusals).toEqual([
        expect.objectContaining({ reason: 'unbound', expected: ['jkt'], received: null, status: 401 }),
      ]);
    } finally {
      await plain.close();
    }
  });
});

describe("serviceAgent({ profile: 'fapi2' })", () => {
  test('gets a DPoP-bound token with private_key_jwt and reaches the API', async () => {
    const worker = serviceAgent({
      profile: 'fapi2',
      issuerBaseURL: idp.issuer,
      clientID: 'service-jwt',
      clientAssertionSigningKey: idp.clientKey.pem,
      ...ORDERS,
    });
    try {
      const answer = await worker.fetch(`${apiBase}/api/orders`);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ sub: 'service-jwt', jkt: expect.any(String) });
      expect((await worker.getToken()).token_type).toBe('DPoP');
    } finally {
      await worker.close();
    }
  });
});
