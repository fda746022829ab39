/**
 * Whatever a trusted proxy header holds, bearer({ mtls }) answers a certificate-bound token with a
 * 401 (or a 200 when the header still carries the token's certificate): never a 500, never a hang.
 */
import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { type MtlsApi, startHttpApi } from '../helpers/mtls-api.js';
import { MTLS_AUDIENCE, type MtlsIdp, startMtlsIdp } from '../helpers/mtls-idp.js';
import { makePki } from '../helpers/tls-certs.js';

let idp: MtlsIdp;
let token: string;
const agent = new Agent({ keepAlive: true });

beforeAll(async () => {
  idp = await startMtlsIdp(makePki());
  token = await idp.sign({ sub: 'fuzz', cnf: { 'x5t#S256': idp.pki.client.thumbprint } });
});
afterAll(async () => {
  agent.destroy();
  await idp.close();
});

/** Characters a header value may hold (RFC 9110 §5.5), in the proportions that reach the parsers. */
const char = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\t', '%', '"', ';', ',', '=', '\\', '+', '/') },
);
const fragment = fc.oneof(
  fc.string({ unit: char, maxLength: 12 }),
  fc.base64String({ maxLength: 64 }),
  fc.constantFrom(
    '-----BEGIN CERTIFICATE-----',
    '-----END CERTIFICATE-----',
    '%0A',
    '%2',
    '%ZZ',
    '%E0%A4%A',
    'Hash=',
    'Cert="',
    'By=spiffe://x;',
    'MIIB',
  ),
);
const garbage = fc.array(fragment, { maxLength: 20 }).map((parts) => parts.join(''));

function get(api: MtlsApi, header: string, value: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${api.url}/api/me`,
      { agent, headers: { authorization: `Bearer ${token}`, [header]: value } },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe.each([
  ['nginx', 'x-ssl-client-cert', (pem: string) => encodeURIComponent(pem)],
  ['envoy', 'x-forwarded-client-cert', (pem: string) => `Cert="${encodeURIComponent(pem)}"`],
  ['alb', 'x-amzn-mtls-clientcert', (pem: string) => encodeURIComponent(pem).replace(/%2B/g, '+')],
] as const)('behind %s', (proxy, header, encode) => {
  let api: MtlsApi;
  beforeAll(async () => {
    api = await startHttpApi({
      issuerBaseURL: idp.issuer,
      audience: MTLS_AUDIENCE,
      mtls: { trustedHeader: proxy },
    });
  });
  afterAll(() => api.close());

  test('garbage in the trusted header: 401 invalid_token', async () => {
    await fc.assert(
      fc.asyncProperty(garbage, async (value) => {
        const { status, body } = await get(api, header, value);
        expect(status).toBe(401);
        expect(JSON.parse(body)).toMatchObject({ error: 'invalid_token' });
      }),
      { numRuns: 150 },
    );
  });

  test('the real header, cut or spliced: 200 with the certificate intact, else 401', async () => {
    const real = encode(idp.pki.client.cert);
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: real.length }),
        fc.nat({ max: real.length }),
        fragment,
        async (from, to, inserted) => {
          const value = real.slice(0, Math.min(from, to)) + inserted + real.slice(Math.max(from, to));
          const { status } = await get(api, header, value);
          expect([200, 401]).toContain(status);
        },
      ),
      { numRuns: 150 },
    );
  });
});
