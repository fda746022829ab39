/**
 * On-behalf-of calls end to end against oidc-provider (RFC 8693): alice signs in with auth(), a route
 * exchanges her access token with serviceAgent({ tokenExchange }).onBehalfOf(), and the downstream
 * ledger API (bearer() with its own audience) sees alice as the subject and the service as the actor.
 * Her own token is refused by the ledger: it is for another audience.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { bearer, requireScope, serviceAgent } from '../../lib/index.js';
import { buildNodeServer, close, listen } from '../api/app.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';
import { registerTokenExchangeGrant } from '../helpers/token-exchange-grant.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from '../signin/harness.js';

const LEDGER = 'https://ledger.example.test';

let idp: TestIdp;
let ledger: Server;
let ledgerUrl: string;
let app: SigninApp;
const agent = () =>
  serviceAgent({
    issuerBaseURL: idp.issuer,
    clientID: 'service',
    clientSecret: SERVICE_SECRET,
    resource: LEDGER,
    tokenExchange: true,
  });
let ledgerAgent: ReturnType<typeof agent>;

beforeAll(async () => {
  idp = await startIdp({
    extend: (provider, self) => registerTokenExchangeGrant(provider, self, { clients: ['service'] }),
  });
  ledger = buildNodeServer({ issuerBaseURL: idp.issuer, audience: LEDGER });
  ledgerUrl = await listen(ledger);
  ledgerAgent = agent();
  app = await startSigninApp(idp, {
    options: { authorizationParams: { scope: 'openid orders:read', resource: API_AUDIENCE } },
    routes: (a) => {
      a.use('/api', bearer({ issuerBaseURL: idp.issuer, audience: API_AUDIENCE }));
      // Our API, called with alice's token, calls the ledger on her behalf.
      a.get('/api/statement', requireScope('orders:read'), async (req, res, next) => {
        try {
          const answer = await ledgerAgent.onBehalfOf(req.auth!.token).fetch(`${ledgerUrl}/entries`);
          const { access_token } = await ledgerAgent.onBehalfOf(req.auth!.token).getToken();
          res.status(answer.status).json({ ledger: await answer.json(), exchanged: access_token });
        } catch (err) {
          next(err);
        }
      });
      a.get('/statement', async (req, res, next) => {
        try {
          const answer = await req.oidc.fetch(`${app.baseURL}/api/statement`);
          res.status(answer.status).json(await answer.json());
        } catch (err) {
          next(err);
        }
      });
    },
  });
});
afterAll(async () => {
  await app.close();
  await ledgerAgent.close();
  await close(ledger);
  await idp.close();
});

test('a signed-in user’s call reaches the ledger on her behalf: sub is alice, act is the service', async () => {
  const browser = new TestBrowser();
  await loginAs(browser, app, { login: 'alice' });
  const res = await browser.get(`${app.baseURL}/statement`);
  expect(res.status).toBe(200);
  const body = JSON.parse(res.body) as { ledger: { sub: string }; exchanged: string };
  expect(body.ledger).toEqual({ sub: 'alice' });
  const claims = JSON.parse(Buffer.from(body.exchanged.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    unknown
  >;
  expect(claims).toMatchObject({ sub: 'alice', aud: LEDGER, act: { sub: 'service' }, scope: 'orders:read' });
});

test('the user’s own token is not accepted by the ledger: it was issued for another audience', async () => {
  const browser = new TestBrowser();
  await loginAs(browser, app, { login: 'alice' });
  const token = await new Promise<string>((resolve) =>
    app.store.all((_err, sessions) =>
      resolve(
        Object.values(sessions ?? {})
          .map(
            (s) =>
              (s as { portcullis?: { tokens: { access_token?: string } } }).portcullis?.tokens.access_token,
          )
          .find((t) => t !== undefined)!,
      ),
    ),
  );
  const direct = await fetch(`${ledgerUrl}/entries`, { headers: { authorization: `Bearer ${token}` } });
  expect(direct.status).toBe(401);
  expect(direct.headers.get('www-authenticate')).toContain('error_description="unexpected \\"aud\\" claim"');
});
