/** Opaque tokens by RFC 7662 introspection: checks, caching, one call per token in flight, outages. */
import { describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { AUDIENCE, useKeyServer } from '../helpers/key-server.js';
import { buildApp } from './app.js';

const ks = useKeyServer();

const now = () => Math.floor(Date.now() / 1000);
let n = 0;
function opaque(response: Record<string, unknown>): string {
  const token = `opaque-${++n}-${Math.random().toString(36).slice(2)}`;
  ks.introspection.set(token, response);
  return token;
}
const active = (extra: Record<string, unknown> = {}) => ({
  active: true,
  iss: ks.issuer,
  aud: AUDIENCE,
  sub: 'user-1',
  scope: 'orders:read',
  exp: now() + 300,
  ...extra,
});

function app() {
  return buildApp('express5', {
    issuerBaseURL: ks.issuer,
    audience: AUDIENCE,
    introspection: { clientID: 'api', clientSecret: 'api-secret' },
  });
}

describe('introspection', () => {
  test('an active opaque token passes with its scopes, and is introspected once', async () => {
    const server = app();
    const token = opaque(active());
    const res = await request(server).get('/api/orders').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    const me = await request(server).get('/api/me').set('authorization', `Bearer ${token}`);
    expect(me.body).toEqual({ sub: 'user-1', scopes: ['orders:read'] });
    expect(ks.introspectionHits).toBe(1);
  });

  test('parallel requests with one token share one introspection call', async () => {
    const server = app();
    const token = opaque(active());
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        request(server).get('/api/me').set('authorization', `Bearer ${token}`),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(ks.introspectionHits).toBe(1);
  });

  test('an inactive token is remembered: sent again, it is refused without asking the IdP again', async () => {
    const server = app();
    const dead = opaque({ active: false });
    for (let i = 0; i < 5; i++) {
      const res = await request(server).get('/api/me').set('authorization', `Bearer ${dead}`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: 'the token is not active' });
    }
    expect(ks.introspectionHits).toBe(1);
    // A token that is merely expired is not remembered as dead: only `active: false` is final.
    const expired = opaque(active({ exp: now() - 60 }));
    await request(server).get('/api/me').set('authorization', `Bearer ${expired}`);
    await request(server).get('/api/me').set('authorization', `Bearer ${expired}`);
    expect(ks.introspectionHits).toBe(3);
  });

  test('inactive, foreign, expired and refresh tokens are invalid_token', async () => {
    const server = app();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ active: false }, /not active/],
      [active({ aud: 'https://other.example' }), /"aud"/],
      [active({ iss: 'https://evil.example' }), /"iss"/],
      [active({ exp: now() - 60 }), /"exp"/],
      [active({ token_type: 'refresh_token' }), /not an access token/],
    ];
    for (const [response, description] of cases) {
      const res = await request(server)
        .get('/api/me')
        .set('authorization', `Bearer ${opaque(response)}`);
      expect(res.status).toBe(401);
      expect(res.body.error_description).toMatch(description);
    }
  });

  test('an unreachable introspection endpoint is a 503', async () => {
    const server = app();
    const token = opaque(active());
    await request(server)
      .get('/api/me')
      .set('authorization', `Bearer ${opaque(active())}`); // discovery
    ks.mode = 'down';
    const res = await request(server).get('/api/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
  });

  test('without introspection, an opaque token is simply invalid', async () => {
    const server = buildApp('express5', { issuerBaseURL: ks.issuer, audience: AUDIENCE });
    const res = await request(server)
      .get('/api/me')
      .set('authorization', `Bearer ${opaque(active())}`);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toBe('the token is not a JWT');
    expect(ks.introspectionHits).toBe(0);
  });
});
