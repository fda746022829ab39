/**
 * bearer({ mtls }) and certificate-bound access tokens (RFC 8705 §3), over real TLS on loopback: the
 * tokens come from oidc-provider with mTLS (bound to the client certificate of the token request),
 * and the API either terminates TLS itself (an https server asking for client certificates) or sits
 * behind a proxy whose header it names as trusted.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { serviceAgent } from '../../lib/index.js';
import { type Answer, httpsGet, type MtlsApi, startHttpApi, startHttpsApi } from '../helpers/mtls-api.js';
import { MTLS_AUDIENCE, type MtlsIdp, OPAQUE_AUDIENCE, startMtlsIdp } from '../helpers/mtls-idp.js';
import type { TestCertificate } from '../helpers/tls-certs.js';

let idp: MtlsIdp;
/** Bound to `idp.pki.client`. */
let bound: string;
let unbound: string;

async function tokenOf(clientID: string): Promise<string> {
  const agent = serviceAgent({
    issuerBaseURL: idp.issuer,
    clientID,
    tlsClientCertificate: idp.pki.client.cert,
    tlsClientKey: idp.pki.client.key,
    tlsServerCA: idp.pki.ca.cert,
  });
  try {
    return (await agent.getToken()).access_token;
  } finally {
    await agent.close();
  }
}

beforeAll(async () => {
  idp = await startMtlsIdp();
  [bound, unbound] = await Promise.all([tokenOf('tls-service'), tokenOf('tls-service-unbound')]);
});
afterAll(() => idp.close());

const options = (extra: Record<string, unknown> = {}) => ({
  issuerBaseURL: idp.issuer,
  audience: MTLS_AUDIENCE,
  ...extra,
});

function expectRefused(answer: Pick<Answer, 'status' | 'headers' | 'body'>, description: string): void {
  expect(answer.status).toBe(401);
  expect(answer.body).toEqual({ error: 'invalid_token', error_description: description });
  expect(answer.headers['www-authenticate']).toBe(
    `Bearer realm="api", error="invalid_token", error_description="${description.replace(/"/g, '\\"')}"`,
  );
}

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
    const agent = serviceAgent({
      issuerBaseURL: idp.issuer,
      clientID: 'tls-service',
      tlsClientCertificate: idp.pki.client.cert,
      tlsClientKey: idp.pki.client.key,
      tlsServerCA: idp.pki.ca.cert,
      resource: OPAQUE_AUDIENCE,
    });
    const opaque = (await agent.getToken()).access_token;
    await agent.close();
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
