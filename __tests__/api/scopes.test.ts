/**
 * requireScope / requireAnyScope / requireClaim: after bearer(), and after sign-in's auth() (a
 * `req.oidc.accessToken`, mimicked here by a tiny middleware with the same shape).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import {
  bearer,
  requireAnyScope,
  requireClaim,
  requireScope,
  type SignedInContext,
} from '../../lib/index.js';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';

let ks: KeyServer;
beforeAll(async () => {
  ks = await startKeyServer();
});
afterAll(() => ks.close());

function bearerApp(extra: Record<string, unknown> = {}) {
  const app = express();
  app.use(bearer({ issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE, ...extra }));
  app.get('/all', requireScope('a', 'b'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/any', requireAnyScope('a', 'c'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/org', requireClaim('org', 'acme'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/roles', requireClaim('roles', 'admin'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get(
    '/pred',
    requireClaim('level', (v) => typeof v === 'number' && v >= 3),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  return app;
}

const get = async (app: express.Express, path: string, claims: Record<string, unknown>) =>
  request(app)
    .get(path)
    .set('authorization', `Bearer ${await ks.token(claims)}`);

describe('after bearer()', () => {
  const app = () => bearerApp();

  test('requireScope needs all, requireAnyScope one; scopes come from scope and scp', async () => {
    expect((await get(app(), '/all', { scope: 'a b' })).status).toBe(200);
    expect((await get(app(), '/all', { scope: undefined, scp: ['a', 'b'] })).status).toBe(200);
    expect((await get(app(), '/all', { scope: 'a', scp: 'b' })).status).toBe(200);
    const missing = await get(app(), '/all', { scope: 'a' });
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'the token lacks a required scope',
    });
    expect(missing.headers['www-authenticate']).toContain('scope="a b"');
    expect((await get(app(), '/any', { scope: 'c' })).status).toBe(200);
    const none = await get(app(), '/any', { scope: 'b' });
    expect(none.status).toBe(403);
    expect(none.headers['www-authenticate']).toContain('scope="a c"');
  });

  test("the checks challenge with bearer()'s realm: after a fresh verdict, a cached one, and no token", async () => {
    const orders = bearerApp({ realm: 'orders', authRequired: false });
    const token = await ks.token({ scope: 'a' });
    for (let i = 0; i < 2; i++) {
      const refused = await request(orders).get('/all').set('authorization', `Bearer ${token}`);
      expect(refused.status).toBe(403);
      expect(refused.headers['www-authenticate']).toMatch(
        /^Bearer realm="orders", error="insufficient_scope"/,
      );
    }
    const anonymous = await request(orders).get('/all');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="orders"');
    const standard = await get(app(), '/all', { scope: 'a' });
    expect(standard.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="insufficient_scope"/);
  });

  test('permissions count as scopes only when enabled', async () => {
    const claims = { scope: undefined, permissions: ['a', 'b'] };
    expect((await get(app(), '/all', claims)).status).toBe(403);
    expect((await get(bearerApp({ permissionsAsScopes: true }), '/all', claims)).status).toBe(200);
  });

  test('requireClaim compares values, looks inside lists, or asks a predicate', async () => {
    expect((await get(app(), '/org', { org: 'acme' })).status).toBe(200);
    const wrong = await get(app(), '/org', { org: 'evil' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error_description).toBe('unexpected "org" claim value');
    expect(wrong.headers['www-authenticate']).not.toContain('evil');
    expect((await get(app(), '/org', {})).status).toBe(401);
    expect((await get(app(), '/roles', { roles: ['user', 'admin'] })).status).toBe(200);
    expect((await get(app(), '/pred', { level: 3 })).status).toBe(200);
    expect((await get(app(), '/pred', { level: 2 })).status).toBe(401);
  });
});

describe('after auth() (a signed-in user)', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  function signedInApp(accessToken: SignedInContext['accessToken']) {
    const app = express();
    app.use((req, _res, next) => {
      if (accessToken !== undefined) (req as unknown as { oidc: SignedInContext }).oidc = { accessToken };
      next();
    });
    app.get('/all', requireScope('a', 'b'), (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/any', requireAnyScope('b', 'z'), (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/org', requireClaim('org', 'acme'), (_req, res) => {
      res.json({ ok: true });
    });
    return app;
  }
  const at = (scope: string, expired = false, access_token = 'opaque-token') => ({
    access_token,
    token_type: 'Bearer',
    expires_at: 0,
    scope,
    isExpired: () => expired,
  });

  test("check the scopes granted to the user's access token", async () => {
    expect((await request(signedInApp(at('a b'))).get('/all')).status).toBe(200);
    expect((await request(signedInApp(at('b'))).get('/any')).status).toBe(200);
    const short = await request(signedInApp(at('a'))).get('/all');
    expect(short.status).toBe(403);
    expect(short.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  test('an expired access token, or no sign-in at all, is 401', async () => {
    const expired = await request(signedInApp(at('a b', true))).get('/all');
    expect(expired.status).toBe(401);
    expect(expired.body.error).toBe('invalid_token');
    const anonymous = await request(signedInApp(undefined)).get('/all');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  test("requireClaim reads a JWT access token's payload", async () => {
    const jwt = `${b64({ alg: 'RS256' })}.${b64({ org: 'acme' })}.sig`;
    expect((await request(signedInApp(at('a', false, jwt))).get('/org')).status).toBe(200);
    expect((await request(signedInApp(at('a'))).get('/org')).status).toBe(401);
  });
});

describe('misuse is caught at start-up', () => {
  test('scope arguments', () => {
    expect(() => requireScope()).toThrow(new TypeError('requireScope() needs at least one scope'));
    expect(() => requireAnyScope('a b')).toThrow(
      new TypeError('requireAnyScope() takes scope strings without spaces or quotes, one per argument'),
    );
    expect(() => requireClaim('', 'x')).toThrow(new TypeError('requireClaim() needs a claim name'));
    expect(() => requireClaim('x', {} as never)).toThrow(TypeError);
  });
});
