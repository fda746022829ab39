/**
 * Every attack on the verifier, each refused with a description naming the check that caught it:
 * remove that check and the test fails (the token is either accepted or refused for another reason).
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import request from 'supertest';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';
import { buildApp, HOSTS } from './app.js';

let ks: KeyServer;
beforeAll(async () => {
  ks = await startKeyServer();
});
afterAll(() => ks.close());

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

describe.each(HOSTS)('attacks on %s', (host) => {
  const app = () => buildApp(host, { issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE });
  let server: ReturnType<typeof app>;
  beforeAll(() => {
    server = app();
  });

  async function expectInvalid(token: string, description: RegExp): Promise<void> {
    const res = await request(server).get('/api/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="api", error="invalid_token", error_description="/,
    );
    expect(res.body.error).toBe('invalid_token');
    expect(res.body.error_description).toMatch(description);
    expect(JSON.stringify(res.body) + res.headers['www-authenticate']).not.toContain(token);
  }

  test('a valid token passes (the baseline every attack departs from)', async () => {
    const res = await request(server)
      .get('/api/me')
      .set('authorization', `Bearer ${await ks.token()}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'user-1', scopes: ['orders:read'] });
  });

  test('alg none', async () => {
    const valid = await ks.token();
    const [, payload] = valid.split('.');
    await expectInvalid(`${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.AAAA`, /"alg" is not allowed/);
    await expectInvalid(`${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`, /no signature/);
  });

  test('HS256 signed with the RSA public key', async () => {
    // The classic key-confusion attack: the public PEM used as an HMAC secret.
    const rsaPublicPem = createPublicKey({ key: ks.keys[0]!.publicJwk as JsonWebKey, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const forged = await new jose.SignJWT({ iss: ks.issuer, aud: AUDIENCE, exp: now() + 60, sub: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: ks.keys[0]!.kid })
      .sign(Buffer.from(rsaPublicPem));
    await expectInvalid(forged, /"alg" is not allowed/);
  });

  test('expired, not yet valid, issued in the future', async () => {
    await expectInvalid(await ks.token({ exp: now() - 60 }), /"exp" check failed/);
    await expectInvalid(await ks.token({ exp: undefined }), /no "exp" claim/);
    await expectInvalid(await ks.token({ nbf: now() + 60 }), /"nbf" check failed/);
    await expectInvalid(await ks.token({ iat: now() + 60 }), /"iat" check failed/);
  });

  test('wrong issuer or audience', async () => {
    await expectInvalid(await ks.token({ iss: 'https://evil.example' }), /unexpected "iss"/);
    await expectInvalid(await ks.token({ iss: undefined }), /unexpected "iss"/);
    await expectInvalid(await ks.token({ aud: 'https://other.example' }), /unexpected "aud"/);
    await expectInvalid(await ks.token({ aud: ['https://other.example'] }), /unexpected "aud"/);
  });

  test('stripped or tampered signature, tampered payload', async () => {
    const valid = await ks.token();
    const [h, p, s] = valid.split('.') as [string, string, string];
    await expectInvalid(`${h}.${p}.`, /no signature/);
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    await expectInvalid(`${h}.${p}.${flipped}`, /signature does not verify/);
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    await expectInvalid(`${h}.${b64({ ...payload, scope: 'admin' })}.${s}`, /signature does not verify/);
  });

  test('a token signed by a stranger with the right kid', async () => {
    const stranger = ks.newKey('RS256');
    await expectInvalid(await ks.token({}, { kid: ks.keys[0]!.kid }, stranger), /signature does not verify/);
  });

  test('unknown crit header', async () => {
    await expectInvalid(await ks.token({}, { crit: ['exp'], exp: 1 }), /unsupported "crit"/);
  });

  test('typ other than at+jwt (an ID token, say)', async () => {
    await expectInvalid(await ks.token({}, { typ: 'JWT' }), /"typ"/);
    const [, p, s] = (await ks.token()).split('.');
    await expectInvalid(`${b64({ alg: 'RS256', kid: ks.keys[0]!.kid })}.${p}.${s}`, /no "typ"/);
  });

  test('embedded jwk, jku, x5u and x5c are never used nor fetched', async () => {
    const attacker = ks.newKey('RS256');
    const hits = ks.otherHits.length;
    const token = await ks.token(
      {},
      {
        kid: 'attacker',
        jwk: attacker.publicJwk,
        jku: `${ks.issuer}/attacker/jwks`,
        x5u: `${ks.issuer}/attacker/x5u`,
        x5c: ['MIIB'],
      },
      attacker,
    );
    await expectInvalid(token, /no key in the JWKS/);
    expect(ks.otherHits.length).toBe(hits);
  });

  test('garbage and oversized tokens are 401, never 500', async () => {
    for (const junk of [
      'abc',
      'a.b',
      'a.b.c.d',
      '..',
      'eyJ.eyJ.sig',
      `${b64([1])}.${b64({})}.AAAA`,
      `${b64({ alg: 'RS256', typ: 'at+jwt' })}.bm90IGpzb24.AAAA`,
    ]) {
      const res = await request(server).get('/api/me').set('authorization', `Bearer ${junk}`);
      expect(res.status).toBe(401);
    }
  });
});

describe('HMAC', () => {
  const secret = 'a-shared-secret-of-at-least-32-bytes!!';
  const hmacToken = (key: string | Uint8Array, claims: jose.JWTPayload = {}) =>
    new jose.SignJWT({ iss: ks.issuer, aud: AUDIENCE, exp: now() + 60, sub: 'user-1', ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: ks.keys[0]!.kid })
      .sign(typeof key === 'string' ? Buffer.from(key) : key);

  test('verifies with the configured secret only, never with a JWKS key', async () => {
    const app = buildApp('express5', {
      issuer: ks.issuer,
      jwksUri: ks.jwksUri,
      audience: AUDIENCE,
      secret,
      algorithms: ['RS256', 'HS256'],
    });
    const ok = await request(app)
      .get('/api/me')
      .set('authorization', `Bearer ${await hmacToken(secret)}`);
    expect(ok.status).toBe(200);
    const rsaPublicPem = createPublicKey({ key: ks.keys[0]!.publicJwk as JsonWebKey, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const forged = await request(app)
      .get('/api/me')
      .set('authorization', `Bearer ${await hmacToken(rsaPublicPem)}`);
    expect(forged.status).toBe(401);
    expect(forged.body.error_description).toMatch(/signature does not verify/);
  });

  test('RS256 tokens are refused when only HMAC is allowed', async () => {
    const app = buildApp('express5', { issuer: ks.issuer, audience: AUDIENCE, secret });
    const res = await request(app)
      .get('/api/me')
      .set('authorization', `Bearer ${await ks.token()}`);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/"alg" is not allowed/);
  });
});

describe('multi-tenant issuers and audiences', () => {
  test('any listed issuer and any listed audience is accepted, nothing else', async () => {
    const app = buildApp('express5', {
      issuer: ['https://tenant-a.example/', ks.issuer],
      jwksUri: ks.jwksUri,
      audience: ['https://other.example', AUDIENCE],
    });
    const call = async (claims: Record<string, unknown>) =>
      (
        await request(app)
          .get('/api/me')
          .set('authorization', `Bearer ${await ks.token(claims)}`)
      ).status;
    expect(await call({})).toBe(200);
    expect(await call({ iss: 'https://tenant-a.example/', aud: ['x', 'https://other.example'] })).toBe(200);
    expect(await call({ iss: 'https://tenant-b.example/' })).toBe(401);
    expect(await call({ aud: 'https://third.example' })).toBe(401);
  });
});
