/**
 * serviceAgent() with a TLS client certificate (RFC 8705), against oidc-provider with mTLS: client
 * authentication by tls_client_auth and self_signed_tls_client_auth at the IdP's mtls_endpoint_aliases,
 * certificate-bound tokens, and the agent's own calls presenting the certificate to an API that checks
 * the binding.
 */
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, test } from '@jest/globals';
import axios from 'axios';
import * as jose from 'jose';
import { memoryTokenCache, type ServiceAgentOptions, serviceAgent } from '../../lib/index.js';
import { validateClientCertificate } from '../../lib/protocol/mtls/client-certificate.js';
import { certificateAgent, httpsFetch } from '../../lib/protocol/mtls/https-fetch.js';
import { httpsGet, type MtlsApi, useMtlsIdpAndApi } from '../helpers/mtls-api.js';
import type { MtlsIdp } from '../helpers/mtls-idp.js';
import type { TestCertificate } from '../helpers/tls-certs.js';

const suite = useMtlsIdpAndApi();
let idp: MtlsIdp;
let api: MtlsApi;
beforeAll(() => {
  ({ idp, api } = suite);
});

function options(certificate: TestCertificate, extra: ServiceAgentOptions = {}): ServiceAgentOptions {
  return {
    issuerBaseURL: idp.issuer,
    clientID: 'tls-service',
    tlsClientCertificate: certificate.cert,
    tlsClientKey: certificate.key,
    tlsServerCA: idp.pki.ca.cert,
    ...extra,
  };
}

/** The token requests the IdP saw since `from`: which server, and with which certificate. */
const tokenCalls = (from: number) =>
  idp.calls
    .slice(from)
    .filter((call) => call.path === '/token')
    .map(({ server, certificate }) => ({ server, certificate }));

describe('serviceAgent() with a TLS client certificate', () => {
  test('tls_client_auth: the token request goes to the mTLS alias with the certificate; the token is bound to it', async () => {
    const from = idp.calls.length;
    const agent = serviceAgent(options(idp.pki.client));
    const token = await agent.getToken();
    expect(token.token_type).toBe('Bearer');
    expect(jose.decodeJwt(token.access_token)).toMatchObject({
      client_id: 'tls-service',
      cnf: { 'x5t#S256': idp.pki.client.thumbprint },
    });
    expect(tokenCalls(from)).toEqual([{ server: 'mtls', certificate: 'CN=mtls-client,O=portcullis tests' }]);
    await agent.close();
  });

  test('self_signed_tls_client_auth: chosen for a self-signed certificate (KeyObject and X509Certificate taken too)', async () => {
    const { selfSigned } = idp.pki;
    const agent = serviceAgent(
      options(selfSigned, {
        clientID: 'self-signed-service',
        tlsClientCertificate: new X509Certificate(selfSigned.cert),
        tlsClientKey: selfSigned.keyObject,
      }),
    );
    const token = await agent.getToken();
    expect(jose.decodeJwt(token.access_token).cnf).toEqual({ 'x5t#S256': selfSigned.thumbprint });
    await agent.close();
  });

  test("tls_client_auth with the app's own fetch presenting the certificate: the aliases are used all the same", async () => {
    const own = validateClientCertificate(
      {
        tlsClientCertificate: idp.pki.client.cert,
        tlsClientKey: idp.pki.client.key,
        tlsServerCA: idp.pki.ca.cert,
      },
      { p: '', orEnv: () => '', customFetch: false },
    )!;
    const dispatcher = certificateAgent(own); // as an app's undici Agent with connect: { cert, key } would
    const from = idp.calls.length;
    const agent = serviceAgent({
      issuerBaseURL: idp.issuer,
      clientID: 'tls-service',
      clientAuthMethod: 'tls_client_auth',
      fetch: httpsFetch(dispatcher),
    });
    const token = await agent.getToken();
    expect(jose.decodeJwt(token.access_token).cnf).toEqual({ 'x5t#S256': idp.pki.client.thumbprint });
    expect(tokenCalls(from)).toEqual([{ server: 'mtls', certificate: 'CN=mtls-client,O=portcullis tests' }]);
    await agent.close();
    dispatcher.destroy();
  });

  test('a certificate the IdP does not know: invalid_client, saying what to check', async () => {
    const agent = serviceAgent(options(idp.pki.stranger, { retries: 0 }));
    await expect(agent.getToken()).rejects.toMatchObject({
      code: 'ERR_TOKEN_REQUEST_FAILED',
      error: 'invalid_client',
      message: expect.stringContaining(
        'client "tls-service" authenticating with tls_client_auth: check the client ID, that the IdP trusts the certificate\'s CA and has its subject',
      ),
    });
    await agent.close();
  });

  test('agent.fetch() presents the certificate: the API accepts the bound token', async () => {
    const agent = serviceAgent(options(idp.pki.client));
    const answer = await agent.fetch(`${api.url}/api/me`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({
      sub: 'tls-service',
      mtls: { 'x5t#S256': idp.pki.client.thumbprint },
    });
    // The same token without the certificate is refused: the binding is what the API checked.
    const { access_token } = await agent.getToken();
    const stolen = await httpsGet(`${api.url}/api/me`, {
      ca: idp.pki.ca.cert,
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(stolen.status).toBe(401);
    await agent.close();
  });

  test('attach(axios) presents the certificate too', async () => {
    const agent = serviceAgent(options(idp.pki.client));
    const http = agent.attach(axios.create({ baseURL: api.url }));
    const answer = await http.get('/api/me');
    expect(answer.data).toEqual({ sub: 'tls-service', mtls: { 'x5t#S256': idp.pki.client.thumbprint } });
    await agent.close();
  });

  test('a shared cache keeps tokens per certificate: another certificate never gets a token bound to the first', async () => {
    const cache = memoryTokenCache();
    const second = idp.pki.ca.issue({ cn: 'mtls-client' }); // the same registered subject, another key
    const first = serviceAgent(options(idp.pki.client, { cache }));
    const other = serviceAgent(options(second, { cache }));
    const a = await first.getToken();
    const b = await other.getToken();
    expect(jose.decodeJwt(b.access_token).cnf).toEqual({ 'x5t#S256': second.thumbprint });
    expect(b.access_token).not.toBe(a.access_token);
    await Promise.all([first.close(), other.close()]);
  });
});
