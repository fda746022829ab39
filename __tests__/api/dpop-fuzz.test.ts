/**
 * Whatever arrives in the DPoP header (junk, JWS-shaped junk, properly signed proofs with arbitrary
 * header members and claims), bearer() answers 2xx or a 4xx with a challenge: never a 500, a crash
 * or a hang, and never the token or the proof in the answer.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { type DpopKey, dpopKey, proof } from '../helpers/dpop-client.js';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';
import { buildApp, close, listen } from './app.js';

const BASE = 'https://api.example.test';

let ks: KeyServer;
let key: DpopKey;
let token: string;
let server: Server;
let url: string;
beforeAll(async () => {
  ks = await startKeyServer();
  key = await dpopKey();
  token = await ks.token({ cnf: { jkt: key.jkt } });
  const app = buildApp('express5', {
    issuer: ks.issuer,
    jwksUri: ks.jwksUri,
    audience: AUDIENCE,
    baseURL: BASE,
  });
  server = createServer(app);
  url = await listen(server);
});
afterAll(async () => {
  await close(server);
  ks.close();
});

const visible = (s: string): string => s.replace(/[^\x21-\x7e]/g, '');
const part = fc.oneof(
  fc.base64String().map((s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '')),
  fc.json().map((j) => Buffer.from(j).toString('base64url')),
  fc.constantFrom('eyJhbGciOiJFUzI1NiJ9', 'eyJ0eXAiOiJkcG9wK2p3dCJ9', 'e30', 'bnVsbA', 'W10'),
);
// `alg` and `crit` are left to the junk above: jose will not sign with a bad one.
const member = (names: string[]) => fc.dictionary(fc.constantFrom(...names), fc.jsonValue(), { maxKeys: 4 });
const signed = fc
  .tuple(member(['typ', 'jwk', 'kid', 'x']), member(['jti', 'htm', 'htu', 'iat', 'ath', 'nonce', 'x']))
  .map(([header, claims]) => ({ header, claims }));
const dpopHeader = fc.oneof(
  fc.string().map(visible),
  fc.tuple(part, part, part).map((p) => p.join('.')),
  signed,
);

test('junk proofs never escape as a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(dpopHeader, async (generated) => {
      const dpop =
        typeof generated === 'string'
          ? generated
          : await proof(key, { htm: 'GET', htu: `${BASE}/api/me`, token, ...generated });
      const headers: Record<string, string> = { authorization: `DPoP ${token}` };
      if (dpop !== '') headers.dpop = dpop;
      const res = await fetch(`${url}/api/me`, { headers, signal: AbortSignal.timeout(5000) });
      const body = await res.text();
      expect([200, 400, 401]).toContain(res.status);
      if (res.status !== 200) {
        expect(res.headers.get('www-authenticate')).toMatch(/^(DPoP|Bearer) realm="api"/);
        expect(JSON.parse(body)).toEqual({
          error: expect.any(String),
          error_description: expect.any(String),
        });
        expect(body).not.toContain(token);
        if (dpop.length > 20) expect(body + res.headers.get('www-authenticate')).not.toContain(dpop);
      }
    }),
    { numRuns: 300 },
  );
});
