/**
 * auth() with a TLS client certificate (RFC 8705), against oidc-provider with mTLS: the code exchange,
 * refresh, PAR and userinfo go to the IdP's mtls_endpoint_aliases with the certificate (tls_client_auth
 * and self_signed_tls_client_auth), the user's tokens come out bound to it, and req.oidc.fetch()
 * presents it to an API that checks the binding.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import type { AuthOptions } from '../../lib/index.js';
import { idpCalls, type MtlsApi, useMtlsIdpAndApi } from '../helpers/mtls-api.js';
import { MTLS_AUDIENCE, type MtlsIdp } from '../helpers/mtls-idp.js';
import type { TestCertificate } from '../helpers/tls-certs.js';
import { loginAs, type SigninApp, startAuthApp, TestBrowser } from './harness.js';

const suite = useMtlsIdpAndApi();
let idp: MtlsIdp;
let api: MtlsApi;
beforeAll(() => {
  ({ idp, api } = suite);
});

function startMtlsApp(clientID: string, certificate: TestCertificate, extra: Partial<AuthOptions> = {}) {
  return startAuthApp(
    (baseURL) => {
      idp.allowApp(baseURL);
      return {
        issuerBaseURL: idp.issuer,
        baseURL,
        clientID,
        tlsClientCertificate: certificate.cert,
        tlsClientKey: certificate.key,
        tlsServerCA: idp.pki.ca.cert,
        ...extra,
      };
    },
    {
      routes: (app) => {
        app.get('/token', (req, res) => {
          res.json({ access_token: req.oidc.accessToken?.access_token });
        });
        app.get('/call-api', async (req, res, next) => {
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
}

describe('auth() with tls_client_auth', () => {
  let app: SigninApp;
  const browser = new TestBrowser();
  beforeAll(async () => {
    app = await startMtlsApp('tls-web', idp.pki.client, {
      authorizationParams: { scope: 'openid offline_access', resource: MTLS_AUDIENCE },
    });
  });
  afterAll(() => app.close());

  test('the code is exchanged at the mTLS alias with the certificate, and the tokens are bound to it', async () => {
    const from = idp.calls.length;
    const { result } = await loginAs(browser, app);
    expect(result.status).toBe(302);
    const client = 'CN=mtls-client,O=portcullis tests';
    expect(idpCalls(idp, from).filter((call) => call.includes(' POST /token '))).toEqual([
      `mtls POST /token ${client}`,
    ]);
    const token = JSON.parse((await browser.get(`${app.baseURL}/token`)).body) as { access_token: string };
    expect(jose.decodeJwt(token.access_token)).toMatchObject({
      aud: MTLS_AUDIENCE,
      cnf: { 'x5t#S256': idp.pki.client.thumbprint },
    });
  });

  test('req.oidc.fetch() presents the certificate: the API accepts the bound token', async () => {
    const answer = await browser.get(`${app.baseURL}/call-api`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      sub: 'alice',
      mtls: { 'x5t#S256': idp.pki.client.thumbprint },
    });
  });

  test('refresh goes to the mTLS alias too, and the new token is bound', async () => {
    const from = idp.calls.length;
    const refreshed = await browser.post(`${app.baseURL}/refresh`, {});
    expect(refreshed.status).toBe(200);
    expect(idpCalls(idp, from)).toEqual(['mtls POST /token CN=mtls-client,O=portcullis tests']);
    const token = JSON.parse((await browser.get(`${app.baseURL}/token`)).body) as { access_token: string };
    expect(jose.decodeJwt(token.access_token).cnf).toEqual({ 'x5t#S256': idp.pki.client.thumbprint });
  });
});

describe('auth() with tls_client_auth and revokeOnLogout', () => {
  test('the revocation requests go to the mTLS alias with the certificate, and succeed', async () => {
    const warnings: string[] = [];
    const app = await startMtlsApp('tls-web', idp.pki.client, {
      revokeOnLogout: true,
      authorizationParams: { scope: 'openid offline_access' },
      logger: { warn: (_details, message) => warnings.push(message) },
    });
    try {
      const browser = new TestBrowser();
      await loginAs(browser, app);
      const from = idp.calls.length;
      expect((await browser.get(`${app.baseURL}/logout`)).status).toBe(302);
      const client = 'CN=mtls-client,O=portcullis tests';
      expect(idpCalls(idp, from)).toEqual([
        `mtls POST /token/revocation ${client}`,
        `mtls POST /token/revocation ${client}`,
      ]);
      expect(warnings).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('auth() with self_signed_tls_client_auth', () => {
  test('PAR, the code exchange and userinfo all go to the mTLS aliases with the certificate', async () => {
    const app = await startMtlsApp('self-signed-web', idp.pki.selfSigned, {
      pushedAuthorizationRequests: true,
      mergeUserInfo: true,
      authorizationParams: { scope: 'openid profile email' },
    });
    try {
      const browser = new TestBrowser();
      const from = idp.calls.length;
      const { result } = await loginAs(browser, app, { login: 'carol' });
      expect(result.status).toBe(302);
      const client = 'CN=self-signed-client,O=portcullis tests';
      expect(idpCalls(idp, from).filter((call) => call.startsWith('mtls'))).toEqual([
        `mtls POST /request ${client}`,
        `mtls POST /token ${client}`,
        `mtls GET /me ${client}`,
      ]);
      // The userinfo answer (claims the ID token does not carry) reached the session.
      const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body) as {
        user: Record<string, unknown>;
      };
      expect(me.user).toMatchObject({ sub: 'carol', email: 'carol@example.test' });
    } finally {
      await app.close();
    }
  });
});
