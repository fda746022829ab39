/**
 * bearer({ mtls: { trustedHeader } }) behind a proxy that terminates TLS and forwards the client
 * certificate in a header: nginx, Envoy (XFCC) and AWS ALB, and a header of the app's naming.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import {
  type Answer,
  bound,
  expectRefused,
  idp,
  type MtlsApi,
  options,
  startHttpApi,
  unbound,
  useMtlsTokens,
} from '../helpers/mtls-api.js';
import type { TestCertificate } from '../helpers/tls-certs.js';

useMtlsTokens();

function sha256Hex(certificate: TestCertificate): string {
  return Buffer.from(certificate.thumbprint, 'base64url').toString('hex');
}

/** An nginx-style URL-encoding (`$ssl_client_escaped_cert`): `+`, `/` and `=` escaped too. */
const nginx = (certificate: TestCertificate) => encodeURIComponent(certificate.cert);
/** ALB's: URL-encoded, with `+`, `=` and `/` left as they are. */
const alb = (certificate: TestCertificate) =>
  encodeURIComponent(certificate.cert).replace(/%2B/g, '+').replace(/%3D/g, '=').replace(/%2F/g, '/');
/** Envoy's XFCC, as `set_current_client_cert_details: { cert: true }` writes it. */
const xfcc = (certificate: TestCertificate, { hash = true, cert = true } = {}) =>
  [
    'By=spiffe://cluster.local/ns/default/sa/api',
    ...(hash ? [`Hash=${sha256Hex(certificate)}`] : []),
    ...(cert ? [`Cert="${encodeURIComponent(certificate.cert)}"`] : []),
    'Subject="CN=mtls-client,O=portcullis tests"',
    'URI=spiffe://cluster.local/ns/default/sa/client',
  ].join(';');

describe.each([
  ['nginx', 'x-ssl-client-cert', nginx],
  ['envoy', 'x-forwarded-client-cert', (c: TestCertificate) => xfcc(c)],
  ['alb', 'x-amzn-mtls-clientcert', alb],
] as const)('behind %s: the trusted header %s', (proxy, header, encode) => {
  let api: MtlsApi;
  beforeAll(async () => {
    api = await startHttpApi(options({ mtls: { trustedHeader: proxy } }));
  });
  afterAll(() => api.close());

  const call = (value: string | undefined, token = bound) => {
    const req = request(api.url).get('/api/me').set('authorization', `Bearer ${token}`);
    return value === undefined ? req : req.set(header, value);
  };

  test('the bound token with its certificate: accepted', async () => {
    const res = await call(encode(idp.pki.client));
    expect(res.status).toBe(200);
    expect(res.body.mtls).toEqual({ 'x5t#S256': idp.pki.client.thumbprint });
  });

  test('another certificate: 401', async () => {
    const res = await call(encode(idp.pki.stranger));
    expectRefused(res, 'the token is bound to another client certificate');
  });

  test('no header: 401, and the log says the proxy set none', async () => {
    api.lines.length = 0;
    const res = await call(undefined);
    expectRefused(res, 'the token is certificate-bound, and the request came without a client certificate');
    expect(api.lines[0]!.message).toContain(`the proxy set no "${header}" header`);
  });

  test('a header that is not a certificate: 401, never a 500', async () => {
    api.lines.length = 0;
    const res = await call('%%%not-a-certificate');
    expectRefused(res, 'the client certificate could not be read');
    expect(api.lines[0]!.details).toMatchObject({ reason: 'mtls' });
  });

  test('the header twice: 401 (which one did the proxy set?)', async () => {
    const twice = await new Promise<Answer>((resolve, reject) => {
      const value = encode(idp.pki.client);
      const headers = { authorization: `Bearer ${bound}`, [header]: [value, value] };
      httpRequest(`${api.url}/api/me`, { headers }, (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
        );
      })
        .on('error', reject)
        .end();
    });
    expectRefused(twice, 'the client certificate could not be read');
  });

  test('a token that is not bound needs no header', async () => {
    expect((await call(undefined, unbound)).status).toBe(200);
    expect((await call('garbage', unbound)).status).toBe(200);
  });
});

describe('Envoy XFCC details', () => {
  let api: MtlsApi;
  beforeAll(async () => {
    api = await startHttpApi(options({ mtls: { trustedHeader: 'envoy' } }));
  });
  afterAll(() => api.close());

  const call = (value: string) =>
    request(api.url)
      .get('/api/me')
      .set('authorization', `Bearer ${bound}`)
      .set('x-forwarded-client-cert', value);

  test('Hash alone, or Cert alone, is enough', async () => {
    expect((await call(xfcc(idp.pki.client, { cert: false }))).status).toBe(200);
    expect((await call(xfcc(idp.pki.client, { hash: false }))).status).toBe(200);
  });

  test('several elements (a proxy that appends) are refused: the client is not told from the proxies', async () => {
    const res = await call(`${xfcc(idp.pki.stranger)},${xfcc(idp.pki.client)}`);
    expectRefused(res, 'the client certificate could not be read');
    expect(api.lines.at(-1)!.message).toContain('SANITIZE_SET');
  });

  test('a Hash that is not a hex SHA-256 cannot be read', async () => {
    expectRefused(await call('Hash=not-hex;Subject="CN=x"'), 'the client certificate could not be read');
    expect(api.lines.at(-1)!.message).toContain('its Hash is not a hex SHA-256');
  });

  test('a Hash that is not the hash of the Cert is refused', async () => {
    const res = await call(
      `Hash=${sha256Hex(idp.pki.client)};Cert="${encodeURIComponent(idp.pki.stranger.cert)}"`,
    );
    expectRefused(res, 'the client certificate could not be read');
  });
});

describe('a named header of its own format', () => {
  test('{ name, format: "pem" }: raw PEM with its newlines as spaces, or bare base64 DER (HAProxy)', async () => {
    const api = await startHttpApi(
      options({ mtls: { trustedHeader: { name: 'X-Client-Cert', format: 'pem' } } }),
    );
    try {
      const res = await request(api.url)
        .get('/api/me')
        .set('authorization', `Bearer ${bound}`)
        .set('x-client-cert', idp.pki.client.cert.replace(/\n/g, ' '));
      expect(res.status).toBe(200);
      const der = await request(api.url)
        .get('/api/me')
        .set('authorization', `Bearer ${bound}`)
        .set('x-client-cert', idp.pki.client.der.toString('base64'));
      expect(der.body.mtls).toEqual({ 'x5t#S256': idp.pki.client.thumbprint });
    } finally {
      await api.close();
    }
  });
});
