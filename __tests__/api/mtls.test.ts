/**
 * bearer({ mtls }) and certificate-bound access tokens (RFC 8705 §3), over real TLS on loopback: the
 * tokens come from oidc-provider with mTLS (bound to the client certificate of the token request), and
 * the API terminates TLS itself, an https server asking for client certificates. Behind a proxy:
 * mtls-proxies.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  bound,
  expectRefused,
  httpsGet,
  idp,
  type MtlsApi,
  options,
  startHttpsApi,
  tokenOf,
  unbound,
  useMtlsTokens,
} from '../helpers/mtls-api.js';
import { OPAQUE_AUDIENCE } from '../helpers/mtls-idp.js';
import type { TestCertificate } from '../helpers/tls-certs.js';

useMtlsTokens();

describe('the app terminates TLS: the certificate of the connection', () => {
  let api: MtlsApi;
  beforeAll(async () => {
    api = await startHttpsApi(idp.pki, options({ mtls: true }));
  });
  afterAll(() => api.close());

  const call = (token: string, certificate?: TestCertificate, headers: Record<string, string> = {}) =>
    httpsGet(`${api.url}/api/me`, {
      ca: idp.pki.ca.cert,
      ...(certificate === undefined ? {} : { certificate }),
      headers: { authorization: `Bearer ${token}`, ...headers },
    });

  test('the bound token with its certificate: accepted, req.auth.mtls names the thumbprint', async () => {
    const answer = await call(bound, idp.pki.client);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ sub: 'tls-service', mtls: { 'x5t#S256': idp.pki.client.thumbprint } });
  });

  test('another certificate: 401 invalid_token, and the log says which thumbprints', async () => {
    api.lines.length = 0;
    expectRefused(await call(bound, idp.pki.stranger), 'the token is bound to another client certificate');
    expect(api.lines).toHaveLength(1);
    expect(api.lines[0]!.details).toMatchObject({
      reason: 'mtls',
      expected: idp.pki.client.thumbprint,
      received: idp.pki.stranger.thumbprint,
    });
    expect(api.lines[0]!.message).toContain('bearer() refused a token (mtls)');
  });

  test('a self-signed certificate is compared like any other (the handshake proves the key)', async () => {
    expectRefused(await call(bound, idp.pki.selfSigned), 'the token is bound to another client certificate');
  });

  test('no certificate: 401 invalid_token', async () => {
    api.lines.length = 0;
    expectRefused(
      await call(bound),
      'the token is certificate-bound, and the request came without a client certificate',
    );
    expect(api.lines[0]!.details).toMatchObject({ reason: 'mtls', expected: idp.pki.client.thumbprint });
    expect(api.lines[0]!.message).toContain('mtls.trustedHeader');
  });

  test('proxy headers are not trusted unless named: a spoofed certificate header is ignored', async () => {
    const pem = idp.pki.client.cert;
    const spoofed = {
      'x-ssl-client-cert': encodeURIComponent(pem),
      'x-forwarded-client-cert': `Hash=${sha256Hex(idp.pki.client)}`,
      'x-amzn-mtls-clientcert': encodeURIComponent(pem),
    };
    const description = 'the token is certificate-bound, and the request came without a client certificate';
    expectRefused(await call(bound, undefined, spoofed), description);
    expectRefused(
      await call(bound, idp.pki.stranger, spoofed),
      'the token is bound to another client certificate',
    );
  });

  test('a cached verdict still compares the certificate', async () => {
    const token = await idp.sign({ sub: 'cached', cnf: { 'x5t#S256': idp.pki.client.thumbprint } });
    expect((await call(token, idp.pki.client)).status).toBe(200);
    expectRefused(await call(token, idp.pki.stranger), 'the token is bound to another client certificate');
    expectRefused(
      await call(token),
      'the token is certificate-bound, and the request came without a client certificate',
    );
    expect((await call(token, idp.pki.client)).status).toBe(200);
  });

  test('a token that is not bound is accepted, with or without a certificate', async () => {
    expect((await call(unbound, idp.pki.client)).body).toEqual({ sub: 'tls-service-unbound', mtls: null });
    expect((await call(unbound)).status).toBe(200);
  });

  test('a "cnf.x5t#S256" that is no thumbprint: 401', async () => {
    const token = await idp.sign({ sub: 'odd', cnf: { 'x5t#S256': 42 } });
    expectRefused(
      await call(token, idp.pki.client),
      'the token\'s "cnf.x5t#S256" is not a certificate thumbprint',
    );
  });
});

describe('opaque tokens: introspection over mTLS, and the binding from its answer', () => {
  test('introspection goes to the mTLS alias with the certificate; cnf.x5t#S256 of the answer is checked', async () => {
    const opaque = await tokenOf(idp, 'tls-service', { resource: OPAQUE_AUDIENCE });
    expect(opaque.split('.')).toHaveLength(1);
    const api = await startHttpsApi(idp.pki, {
      issuerBaseURL: idp.issuer,
      audience: OPAQUE_AUDIENCE,
      mtls: true,
      introspection: {
        clientID: 'tls-service',
        tlsClientCertificate: idp.pki.client.cert,
        tlsClientKey: idp.pki.client.key,
        tlsServerCA: idp.pki.ca.cert,
      },
    });
    try {
      const from = idp.calls.length;
      const get = (certificate: TestCertificate) =>
        httpsGet(`${api.url}/api/me`, {
          ca: idp.pki.ca.cert,
          certificate,
          headers: { authorization: `Bearer ${opaque}` },
        });
      const answer = await get(idp.pki.client);
      // A client-credentials token has no `sub`.
      expect(answer.body).toEqual({ mtls: { 'x5t#S256': idp.pki.client.thumbprint } });
      expect(idp.calls.slice(from).filter((call) => call.path === '/token/introspection')).toEqual([
        {
          server: 'mtls',
          method: 'POST',
          path: '/token/introspection',
          certificate: 'CN=mtls-client,O=portcullis tests',
        },
      ]);
      expectRefused(await get(idp.pki.stranger), 'the token is bound to another client certificate');
    } finally {
      await api.close();
    }
  });
});

describe('options', () => {
  test('mtls.required: a token that is not bound is refused', async () => {
    const api = await startHttpsApi(idp.pki, options({ mtls: { required: true } }));
    try {
      const answer = await httpsGet(`${api.url}/api/me`, {
        ca: idp.pki.ca.cert,
        certificate: idp.pki.client,
        headers: { authorization: `Bearer ${unbound}` },
      });
      expectRefused(answer, 'the token is not certificate-bound');
      expect(api.lines[0]!.message).toContain('mtls.required is on');
    } finally {
      await api.close();
    }
  });

  test('without mtls, a certificate-bound token is refused (its binding cannot be checked)', async () => {
    const api = await startHttpsApi(idp.pki, options());
    try {
      const answer = await httpsGet(`${api.url}/api/me`, {
        ca: idp.pki.ca.cert,
        certificate: idp.pki.client,
        headers: { authorization: `Bearer ${bound}` },
      });
      expectRefused(
        answer,
        'the token is certificate-bound, and this API does not check client certificates',
      );
      expect(api.lines[0]!.message).toContain('set mtls on bearer()');
    } finally {
      await api.close();
    }
  });
});

function sha256Hex(certificate: TestCertificate): string {
  return Buffer.from(certificate.thumbprint, 'base64url').toString('hex');
}
