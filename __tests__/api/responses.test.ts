/**
 * RFC 6750 on the wire: where the token may be, what each failure answers (status,
 * WWW-Authenticate, JSON body), on Express 5, Express 4 and a plain node:http server.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';
import { buildApp, buildNodeServer, close, HOSTS, listen } from './app.js';

let ks: KeyServer;
beforeAll(async () => {
  ks = await startKeyServer();
});
afterAll(() => ks.close());

const options = () => ({ issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE });

describe.each(HOSTS)('RFC 6750 responses on %s', (host) => {
  test('no token: 401 with a bare challenge (no error code)', async () => {
    const res = await request(buildApp(host, options())).get('/api/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.error).toBeUndefined();
  });

  test('a non-Bearer scheme or a malformed header: 400 invalid_request', async () => {
    const app = buildApp(host, options());
    for (const header of [
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer a b',
      'Bearer tok"en',
      'DPoP abc',
      'Bearer  ',
    ]) {
      const res = await request(app).get('/api/me').set('authorization', header);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_request"/);
    }
  });

  test('the scheme is case-insensitive', async () => {
    const res = await request(buildApp(host, options()))
      .get('/api/me')
      .set('authorization', `bearer ${await ks.token()}`);
    expect(res.status).toBe(200);
  });

  test('query and form body are opt-in; a token in two places is 400', async () => {
    const token = await ks.token();
    const strict = buildApp(host, options());
    expect((await request(strict).get(`/api/me?access_token=${token}`)).status).toBe(401);
    const app = buildApp(host, {
      ...options(),
      allowQueryToken: true,
      allowBodyToken: true,
      realm: 'orders',
    });
    expect((await request(app).get(`/api/me?access_token=${token}`)).status).toBe(200);
    const form = await request(app).post('/api/me').type('form').send({ access_token: token });
    expect(form.status).toBe(200);
    const two = await request(app)
      .get(`/api/me?access_token=${token}`)
      .set('authorization', `Bearer ${token}`);
    expect(two.status).toBe(400);
    expect(two.headers['www-authenticate']).toBe(
      'Bearer realm="orders", error="invalid_request", error_description="the token was sent in more than one place"',
    );
    const twice = await request(app).get(`/api/me?access_token=${token}&access_token=${token}`);
    expect(twice.status).toBe(400);
  });

  test('RFC 6750 §3.1: a token in two places is 400 even where query and body tokens are off', async () => {
    const token = await ks.token();
    const strict = buildApp(host, options());
    const twice =
      'Bearer realm="api", error="invalid_request", error_description="the token was sent in more than one place"';
    const query = await request(strict)
      .get(`/api/me?access_token=${token}`)
      .set('authorization', `Bearer ${token}`);
    expect(query.status).toBe(400);
    expect(query.headers['www-authenticate']).toBe(twice);
    expect(query.body).toEqual({
      error: 'invalid_request',
      error_description: 'the token was sent in more than one place',
    });
    // A urlencoded body the app parsed (express.urlencoded() runs before bearer() here).
    const body = await request(strict)
      .post('/api/me')
      .set('authorization', `Bearer ${token}`)
      .type('form')
      .send({ access_token: token });
    expect(body.status).toBe(400);
    expect(body.headers['www-authenticate']).toBe(twice);
    // Alone, a token where this API does not read tokens is no token: 401 without an error code.
    const alone = await request(strict).get(`/api/me?access_token=${token}`);
    expect(alone.status).toBe(401);
    expect(alone.headers['www-authenticate']).toBe('Bearer realm="api"');
    // Other query parameters and JSON bodies are not tokens.
    const other = await request(strict).get('/api/me?page=2').set('authorization', `Bearer ${token}`);
    expect(other.status).toBe(200);
  });

  test('authRequired: false lets anonymous requests through, but still refuses bad tokens', async () => {
    const app = buildApp(host, { ...options(), authRequired: false });
    const anonymous = await request(app).get('/api/me');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({});
    expect((await request(app).get('/api/me').set('authorization', 'Bearer a.b.c')).status).toBe(401);
  });
});

describe('plain node:http', () => {
  test('bearer() and requireScope() work without any framework', async () => {
    const server = buildNodeServer(options());
    const url = await listen(server);
    try {
      const ok = await fetch(`${url}/`, { headers: { authorization: `Bearer ${await ks.token()}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ sub: 'user-1' });
      const none = await fetch(`${url}/`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      const scope = await fetch(`${url}/`, {
        headers: { authorization: `Bearer ${await ks.token({ scope: 'other' })}` },
      });
      expect(scope.status).toBe(403);
      expect(scope.headers.get('www-authenticate')).toContain('scope="orders:read"');
    } finally {
      await close(server);
    }
  });

  test('a body nobody parsed is not read: header + form body with access_token passes', async () => {
    // No body parser in a plain node:http server: bearer() never reads the stream itself.
    const server = buildNodeServer(options());
    const url = await listen(server);
    try {
      const token = await ks.token();
      const res = await fetch(`${url}/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: `access_token=${token}`,
      });
      expect(res.status).toBe(200);
    } finally {
      await close(server);
    }
  });

  test('a 64 KB token is refused by its length, before any parsing', async () => {
    // Node refuses headers over 16 KB itself (431); this server allows them, so our own bound shows.
    const protect = buildNodeServer(options());
    const server = createServer({ maxHeaderSize: 256 * 1024 }, (req, res) =>
      protect.emit('request', req, res),
    );
    const url = await listen(server);
    try {
      const big = `${'A'.repeat(40 * 1024)}.${'B'.repeat(24 * 1024)}.C`;
      const res = await fetch(`${url}/`, { headers: { authorization: `Bearer ${big}` } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error_description: string }).error_description).toMatch(/too long/);
    } finally {
      await close(server);
    }
  });
});
