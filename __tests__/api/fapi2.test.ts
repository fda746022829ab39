/**
 * bearer({ profile: 'fapi2' }) against tokens of our own (helpers/key-server.ts): only sender-constrained
 * tokens, signed and proven with the profile's algorithms (PS256, ES256, EdDSA), sent in the header,
 * with DPoP proofs accepted up to 60 s ahead and no further (FAPI 2.0 §5.3.4, §5.4.1, §5.3.2.1 (13)).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { BearerOptions } from '../../lib/index.js';
import { type DpopKey, dpopKey, proof } from '../helpers/dpop-client.js';
import { AUDIENCE, type KeyServer, startKeyServer, type TestKey } from '../helpers/key-server.js';
import { buildApp } from './app.js';

const BASE = 'https://api.example.com';
const HTU = `${BASE}/api/me`;
const now = () => Math.floor(Date.now() / 1000);

let ks: KeyServer;
let es256: TestKey;
let rs256: TestKey;
let key: DpopKey;
let app: ReturnType<typeof buildApp>;

beforeAll(async () => {
  ks = await startKeyServer();
  es256 = ks.newKey('ES256');
  rs256 = ks.newKey('RS256');
  ks.keys = [es256, rs256];
  key = await dpopKey('ES256');
  const options: BearerOptions = {
    profile: 'fapi2',
    issuer: ks.issuer,
    jwksUri: ks.jwksUri,
    audience: AUDIENCE,
    baseURL: BASE,
  };
  app = buildApp('express5', options);
});
afterAll(() => ks.close());

const bound = (signer: TestKey = es256) => ks.token({ cnf: { jkt: key.jkt } }, {}, signer);
const send = (token: string, dpop?: string, path = '/api/me') => {
  const req = request(app).get(path).set('authorization', `DPoP ${token}`);
  return dpop === undefined ? req : req.set('dpop', dpop);
};

describe("bearer({ profile: 'fapi2' })", () => {
  test('a DPoP-bound ES256 token with its ES256 proof is accepted', async () => {
    const token = await bound();
    const res = await send(token, await proof(key, { htm: 'GET', htu: HTU, token }));
    expect(res.status).toBe(200);
  });

  test("the same token signed RS256 is refused: not one of the profile's algorithms", async () => {
    const token = await bound(rs256);
    const res = await send(token, await proof(key, { htm: 'GET', htu: HTU, token }));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^DPoP realm="api", error="invalid_token"/);
    expect(res.body.error_description).toBe('the token\'s "alg" is not allowed');
  });

  test("a proof signed ES384 is refused, and the challenge offers the profile's algorithms", async () => {
    const es384 = await dpopKey('ES384');
    const token = await ks.token({ cnf: { jkt: es384.jkt } }, {}, es256);
    const res = await send(token, await proof(es384, { htm: 'GET', htu: HTU, token }));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_dpop_proof"/);
    expect(res.headers['www-authenticate']).toContain('algs="PS256 ES256 EdDSA Ed25519"');
  });

  test.each([
    ['55 s ahead: accepted', 55, 200],
    ['65 s ahead: refused', 65, 401],
  ])('a proof issued %s', async (_name, ahead, status) => {
    const token = await bound();
    const dpop = await proof(key, { htm: 'GET', htu: HTU, token, claims: { iat: now() + ahead } });
    expect((await send(token, dpop)).status).toBe(status);
  });

  test('a token valid from 8 s ahead (nbf) is accepted: clocks a few seconds apart still work', async () => {
    const token = await ks.token({ cnf: { jkt: key.jkt }, nbf: now() + 8 }, {}, es256);
    expect((await send(token, await proof(key, { htm: 'GET', htu: HTU, token }))).status).toBe(200);
  });

  test('a token without cnf is refused as Bearer and as DPoP', async () => {
    const token = await ks.token({}, {}, es256);
    const asBearer = await request(app).get('/api/me').set('authorization', `Bearer ${token}`);
    expect(asBearer.status).toBe(401);
    expect(asBearer.body.error_description).toBe(
      'the token is not sender-constrained: this API accepts only DPoP-bound or certificate-bound tokens',
    );
    const asDpop = await send(token, await proof(key, { htm: 'GET', htu: HTU, token }));
    expect(asDpop.status).toBe(401);
    expect(asDpop.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  test('a token in the query is no token (401 without an error code)', async () => {
    const token = await bound();
    const res = await request(app).get(`/api/me?access_token=${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).not.toMatch(/error=/);
  });
});
