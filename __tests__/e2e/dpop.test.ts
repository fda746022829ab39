/**
 * DPoP end to end, all three products against oidc-provider: a user signs in with auth({ dpop }),
 * the app calls its own API with req.oidc.fetch(), the API checks the proof with bearer({ dpop })
 * (demanding its own nonce), and a worker calls the same API with serviceAgent({ dpop }). The same
 * access tokens, lifted without their keys, are refused.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { bearer, serviceAgent } from '../../lib/index.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';
import { ordersRoutes } from '../helpers/orders-routes.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from '../signin/harness.js';

let idp: TestIdp;
let app: SigninApp;
let apiCalls = 0;

beforeAll(async () => {
  idp = await startIdp({ dpopNonce: true });
  let baseURL = '';
  app = await startSigninApp(idp, {
    options: (url) => {
      baseURL = url;
      return {
        dpop: true,
        authorizationParams: { scope: 'openid offline_access orders:read', resource: API_AUDIENCE },
      };
    },
    routes: (a) => {
      a.use('/api', (_req, _res, next) => {
        apiCalls += 1;
        next();
      });
      a.use(
        '/api',
        bearer({
          issuerBaseURL: idp.issuer,
          audience: API_AUDIENCE,
          baseURL,
          dpop: { required: true, nonce: true },
        }),
      );
      ordersRoutes(a, () => baseURL);
    },
  });
});
afterAll(async () => {
  await app.close();
  await idp.close();
});

test('a signed-in user reaches the API through req.oidc.fetch(): bound token, fresh proofs, nonces on both sides', async () => {
  const browser = new TestBrowser();
  await loginAs(browser, app);
  const before = apiCalls;
  const first = await browser.get(`${app.baseURL}/orders`);
  expect(first.status).toBe(200);
  expect(JSON.parse(first.body)).toEqual({ sub: 'alice', jkt: expect.any(String) });
  expect(apiCalls - before).toBe(2); // the API's use_dpop_nonce, then the proof with its nonce
  const again = await browser.get(`${app.baseURL}/orders`);
  expect(again.status).toBe(200);
  expect(apiCalls - before).toBe(3); // the nonce is remembered

  // The same access token without its key: refused as Bearer and as DPoP without a proof.
  const { token } = JSON.parse((await browser.get(`${app.baseURL}/token`)).body) as { token: string };
  for (const authorization of [`Bearer ${token}`, `DPoP ${token}`]) {
    const stolen = await fetch(`${app.baseURL}/api/orders`, { headers: { authorization } });
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('www-authenticate')).toMatch(/^DPoP /);
  }
});

test('a worker with serviceAgent({ dpop: true }) reaches the same API with its own bound token', async () => {
  const worker = serviceAgent({
    issuerBaseURL: idp.issuer,
    clientID: 'service',
    clientSecret: SERVICE_SECRET,
    resource: API_AUDIENCE,
    scope: 'orders:read',
    dpop: true,
  });
  try {
    const answer = await worker.fetch(`${app.baseURL}/api/orders`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ sub: 'service', jkt: expect.any(String) });
    const { access_token, token_type } = await worker.getToken();
    expect(token_type).toBe('DPoP');
    const stolen = await fetch(`${app.baseURL}/api/orders`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(stolen.status).toBe(401);
  } finally {
    await worker.close();
  }
});
