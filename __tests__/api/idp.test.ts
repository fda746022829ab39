/**
 * Against the real in-process oidc-provider: discovery, client-credentials JWT access tokens
 * (resource indicators, RS256, typ at+jwt), key rotation and outages, on Express 4 and 5.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';
import { buildApp, HOSTS } from './app.js';

let idp: TestIdp;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());

async function clientCredentials(scope: string, retry = true): Promise<string> {
  // After the IdP restarts (rotation), a pooled keep-alive socket may be dead: retry once.
  if (retry) return clientCredentials(scope, false).catch(() => clientCredentials(scope, false));
  const res = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`service:${SERVICE_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: API_AUDIENCE }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (body.access_token === undefined) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

describe.each(HOSTS)('with the real IdP on %s', (host) => {
  test('accepts its access tokens and enforces their scopes', async () => {
    const app = buildApp(host, { issuerBaseURL: idp.issuer, audience: API_AUDIENCE });
    const read = await clientCredentials('orders:read');
    const me = await request(app).get('/api/me').set('authorization', `Bearer ${read}`);
    expect(me.status).toBe(200);
    expect(me.body.scopes).toEqual(['orders:read']);
    expect((await request(app).get('/api/orders').set('authorization', `Bearer ${read}`)).status).toBe(200);
    expect((await request(app).get('/api/any').set('authorization', `Bearer ${read}`)).status).toBe(200);
    const write = await request(app).get('/api/write').set('authorization', `Bearer ${read}`);
    expect(write.status).toBe(403);
    expect(write.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="orders:write orders:read"',
    );
    const both = await clientCredentials('orders:read orders:write');
    expect((await request(app).get('/api/write').set('authorization', `Bearer ${both}`)).status).toBe(200);
  });

  test('refuses its tokens for another audience, and tokens it signed with the wrong typ', async () => {
    const app = buildApp(host, { issuerBaseURL: idp.issuer, audience: 'https://other.example.test' });
    const token = await clientCredentials('orders:read');
    const res = await request(app).get('/api/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/"aud"/);
    const now = Math.floor(Date.now() / 1000);
    const idTokenLike = await idp.sign(
      { iss: idp.issuer, aud: API_AUDIENCE, exp: now + 60, sub: 'x' },
      { typ: 'JWT' },
    );
    const strict = buildApp(host, { issuerBaseURL: idp.issuer, audience: API_AUDIENCE });
    expect((await request(strict).get('/api/me').set('authorization', `Bearer ${idTokenLike}`)).status).toBe(
      401,
    );
    const lenient = buildApp(host, { issuerBaseURL: idp.issuer, audience: API_AUDIENCE, allowJWTTyp: true });
    expect((await request(lenient).get('/api/me').set('authorization', `Bearer ${idTokenLike}`)).status).toBe(
      200,
    );
  });
});

describe('key rotation and outages at the real IdP', () => {
  test('a rotated key is picked up without restart', async () => {
    const app = buildApp('express5', { issuerBaseURL: idp.issuer, audience: API_AUDIENCE, jwksCooldown: 0 });
    const before = await clientCredentials('orders:read');
    expect((await request(app).get('/api/me').set('authorization', `Bearer ${before}`)).status).toBe(200);
    await idp.rotateKeys();
    const after = await clientCredentials('orders:read');
    expect((await request(app).get('/api/me').set('authorization', `Bearer ${after}`)).status).toBe(200);
    // The old key left the JWKS: its cached verdict went with it.
    expect((await request(app).get('/api/me').set('authorization', `Bearer ${before}`)).status).toBe(401);
  });

  test('an unreachable IdP is a 503 with Retry-After, then it recovers', async () => {
    const app = buildApp('express5', { issuerBaseURL: idp.issuer, audience: API_AUDIENCE });
    const token = await clientCredentials('orders:read');
    await idp.stop();
    try {
      const res = await request(app).get('/api/me').set('authorization', `Bearer ${token}`);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.body.error).toBe('temporarily_unavailable');
    } finally {
      await idp.start();
    }
  });

  test('known keys keep verifying while the IdP is down', async () => {
    const app = buildApp('express5', {
      issuerBaseURL: idp.issuer,
      audience: API_AUDIENCE,
      cacheMaxEntries: 0,
    });
    const token = await clientCredentials('orders:read');
    const second = await clientCredentials('orders:read');
    expect((await request(app).get('/api/me').set('authorization', `Bearer ${token}`)).status).toBe(200);
    await idp.stop();
    try {
      expect((await request(app).get('/api/me').set('authorization', `Bearer ${second}`)).status).toBe(200);
    } finally {
      await idp.start();
    }
  });
});
