/**
 * The FAPI 2.0 Security Profile with mutual TLS (RFC 8705) instead of DPoP, end to end over real TLS on
 * loopback, against oidc-provider in FAPI 2.0 mode with mTLS (helpers/mtls-idp.ts, `fapi: true`: PAR
 * required, PS256): a user signs in with auth({ profile: 'fapi2' }) and a TLS client certificate
 * (tls_client_auth, PAR, certificate-bound tokens, no DPoP) and refreshes; bearer({ profile: 'fapi2',
 * mtls: true }) takes the token only with that certificate and refuses an unbound one; a worker with
 * serviceAgent({ profile: 'fapi2' }) and the certificate gets a bound token and calls the API.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import { type ServiceAgentOptions, serviceAgent } from '../../lib/index.js';
import { httpsGet, idpCalls, type MtlsApi, startHttpsApi, tokenOf } from '../helpers/mtls-api.js';
import { MTLS_AUDIENCE, type MtlsIdp, startMtlsIdp } from '../helpers/mtls-idp.js';
import { makePki, type TestCertificate } from '../helpers/tls-certs.js';
import { loginAs, type SigninApp, startAuthApp, TestBrowser } from '../signin/harness.js';

const CLIENT = 'CN=mtls-client,O=portcullis tests';
let idp: MtlsIdp;
let api: MtlsApi;
let app: SigninApp;

beforeAll(async () => {
  idp = await startMtlsIdp(makePki(), { fapi: true });
  api = await startHttpsApi(idp.pki, {
    profile: 'fapi2',
    issuerBaseURL: idp.issuer,
    audience: MTLS_AUDIENCE,
    mtls: true,
  });
  const { client, ca } = idp.pki;
  app = await startAuthApp(
    (baseURL) => {
      idp.allowApp(baseURL);
      return {
        profile: 'fapi2',
        issuerBaseURL: idp.issuer,
        baseURL,
        clientID: 'tls-web',
        tlsClientCertificate: client.cert,
        tlsClientKey: client.key,
        tlsServerCA: ca.cert,
        authorizationParams: { scope: 'openid offline_access', resource: MTLS_AUDIENCE },
      };
    },
    {
      routes: (a) => {
        a.get('/tokens', (req, res) => {
          res.json({ access_token: req.oidc.accessToken?.access_token, id_token: req.oidc.idToken });
        });
        a.get('/call-api', async (req, res, next) => {
          try {
            const answer = await req.oidc.fetch(`${api.url}/api/me`);
            res.status(answer.status).json(await answer.json());
          } catch (err) {
            next(err);
          }
        });
      },
    },
  );
});
afterAll(async () => {
  await app?.close();
  await api?.close();
  await idp?.close();
});

/** One GET of the API over TLS with `certificate` (or none), and the refusals it logged. */
async function callApi(token: string, certificate?: TestCertificate) {
  const from = api.lines.length;
  const answer = await httpsGet(`${api.url}/api/me`, {
    ca: idp.pki.ca.cert,
    headers: { authorization: `Bearer ${token}` },
    ...(certificate === undefined ? {} : { certificate }),
  });
  return { ...answer, reasons: api.lines.slice(from).map((line) => line.details.reason) };
}

describe("auth({ profile: 'fapi2' }) with a TLS client certificate", () => {
  const browser = new TestBrowser();
  let login: Awaited<ReturnType<typeof loginAs>>;
  let from = 0;
  beforeAll(async () => {
    from = idp.calls.length;
    login = await loginAs(browser, app);
  });
  const tokens = async () =>
    JSON.parse((await browser.get(`${app.baseURL}/tokens`)).body) as {
      access_token: string;
      id_token: string;
    };

  test('the request is pushed with the certificate; the browser carries only client_id and request_uri', () => {
    const url = new URL(login.start.location!);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(idpCalls(idp, from).filter((call) => call.startsWith('mtls'))).toEqual([
      `mtls POST /request ${CLIENT}`,
      `mtls POST /token ${CLIENT}`,
    ]);
  });

  test('iss comes with the code, and the tokens are bound to the certificate, not by DPoP', async () => {
    expect(new URL(login.callback.url).searchParams.get('iss')).toBe(idp.issuer);
    expect(login.result.status).toBe(302);
    const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
    expect(me).toMatchObject({ authenticated: true, token_type: 'Bearer', user: { sub: 'alice' } });
    const { access_token, id_token } = await tokens();
    expect(jose.decodeJwt(access_token).cnf).toEqual({ 'x5t#S256': idp.pki.client.thumbprint });
    expect(jose.decodeProtectedHeader(id_token).alg).toBe('PS256');
  });

  test("req.oidc.fetch() presents the certificate to bearer({ profile: 'fapi2', mtls: true })", async () => {
    const answer = await browser.get(`${app.baseURL}/call-api`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      sub: 'alice',
      mtls: { 'x5t#S256': idp.pki.client.thumbprint },
    });
  });

  test('refresh goes to the mTLS alias with the certificate, and the new token is bound too', async () => {
    const before = (await tokens()).access_token;
    const start = idp.calls.length;
    expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
    expect(idpCalls(idp, start)).toEqual([`mtls POST /token ${CLIENT}`]);
    const { access_token } = await tokens();
    expect(access_token).not.toBe(before);
    expect(jose.decodeJwt(access_token).cnf).toEqual({ 'x5t#S256': idp.pki.client.thumbprint });
  });
});

describe("bearer({ profile: 'fapi2', mtls: true }) over TLS", () => {
  let bound = '';
  beforeAll(async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app, { login: 'bob' });
    bound = (JSON.parse((await browser.get(`${app.baseURL}/tokens`)).body) as { access_token: string })
      .access_token;
  });

  test("accepts the user's certificate-bound token with that certificate", async () => {
    const answer = await callApi(bound, idp.pki.client);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ sub: 'bob', mtls: { 'x5t#S256': idp.pki.client.thumbprint } });
  });

  test('refuses it with another certificate of the same CA: 401, reason mtls', async () => {
    const answer = await callApi(bound, idp.pki.stranger);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: 'invalid_token',
      error_description: 'the token is bound to another client certificate',
    });
    expect(answer.reasons).toEqual(['mtls']);
  });

  test('refuses it without a certificate: 401, reason mtls', async () => {
    const answer = await callApi(bound);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({
      error_description: 'the token is certificate-bound, and the request came without a client certificate',
    });
    expect(answer.reasons).toEqual(['mtls']);
  });

  test('refuses a valid token of the IdP that is bound to nothing, even with the certificate: reason unbound', async () => {
    const unbound = await tokenOf(idp, 'tls-service-unbound');
    expect(jose.decodeJwt(unbound).cnf).toBeUndefined();
    const answer = await callApi(unbound, idp.pki.client);
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: 'invalid_token',
      error_description:
        'the token is not sender-constrained: this API accepts only DPoP-bound or certificate-bound tokens',
    });
    expect(answer.reasons).toEqual(['unbound']);
  });
});

describe("serviceAgent({ profile: 'fapi2' }) with a TLS client certificate", () => {
  const workers: Array<[string, string, () => ServiceAgentOptions]> = [
    ['tls_client_auth', 'tls-service', () => ({})],
    [
      'private_key_jwt, the certificate only binding the token',
      'jwt-service',
      () => ({ clientAuthMethod: 'private_key_jwt', clientAssertionSigningKey: idp.assertionKey }),
    ],
  ];

  test.each(workers)(
    'by %s: a certificate-bound token from the mTLS alias, and the API called with it',
    async (_how, clientID, extra) => {
      const { client, ca } = idp.pki;
      const worker = serviceAgent({
        profile: 'fapi2',
        issuerBaseURL: idp.issuer,
        clientID,
        tlsClientCertificate: client.cert,
        tlsClientKey: client.key,
        tlsServerCA: ca.cert,
        ...extra(),
      });
      try {
        const from = idp.calls.length;
        const answer = await worker.fetch(`${api.url}/api/me`);
        expect(answer.status).toBe(200);
        expect(await answer.json()).toEqual({ sub: clientID, mtls: { 'x5t#S256': client.thumbprint } });
        expect(idpCalls(idp, from)).toEqual([`mtls POST /token ${CLIENT}`]);
        const token = await worker.getToken();
        expect(token.token_type).toBe('Bearer');
        expect(jose.decodeJwt(token.access_token).cnf).toEqual({ 'x5t#S256': client.thumbprint });
      } finally {
        await worker.close();
      }
    },
  );
});
