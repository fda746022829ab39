/**
 * DPoP-bound tokens from the real in-process oidc-provider (RFC 9449), used against bearer() on
 * Express 5, Express 4 and plain node:http: a good proof per request passes and `req.auth.dpop`
 * names the key; the same token without its proof, or as a Bearer token, does not.
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import request from 'supertest';
import type { BearerOptions } from '../../lib/index.js';
import {
  DEFAULT_ALGS as ALGS,
  API_BASE as BASE,
  type DpopKey,
  plainToken,
  proof,
  withBoundToken,
} from '../helpers/dpop-client.js';
import { API_AUDIENCE, type TestIdp } from '../helpers/idp.js';
import { buildApp, buildNodeServer, close, HOSTS, listen } from './app.js';

const fixture = withBoundToken();
let key: DpopKey;
let token: string;
let idp: TestIdp;
beforeAll(() => {
  ({ key, token, idp } = fixture);
});
const { options } = fixture;

function appWithDpopRoute(host: (typeof HOSTS)[number], extra: Partial<BearerOptions> = {}) {
  const app = buildApp(host, options(extra));
  app.get('/api/whoami', (req, res) => {
    res.json({ sub: req.auth?.payload.sub, dpop: req.auth?.dpop });
  });
  return app;
}

test('the IdP binds the token to the key: cnf.jkt is the thumbprint of the proof key', () => {
  const payload = jose.decodeJwt(token);
  expect(payload.cnf).toEqual({ jkt: key.jkt });
  expect(payload.aud).toBe(API_AUDIENCE);
});

describe.each(HOSTS)('DPoP-bound tokens from the real IdP on %s', (host) => {
  test('a fresh proof on every request passes, and req.auth.dpop names the key', async () => {
    const app = appWithDpopRoute(host);
    for (const path of ['/api/me', '/api/orders', '/api/whoami?x=1']) {
      const res = await request(app)
        .get(path)
        .set('authorization', `DPoP ${token}`)
        .set('dpop', await proof(key, { htm: 'GET', htu: `${BASE}${path}`, token }));
      expect(res.status).toBe(200);
      if (path.startsWith('/api/whoami'))
        expect(res.body).toEqual({ sub: 'service', dpop: { jkt: key.jkt } });
    }
    const post = await request(app)
      .post('/api/me')
      .set('authorization', `dpop ${token}`)
      .set('dpop', await proof(key, { htm: 'POST', htu: `${BASE}/api/me`, token }));
    expect(post.status).toBe(200);
  });

  test('the bound token sent as a Bearer token is refused, even from the cache', async () => {
    const app = appWithDpopRoute(host);
    const ok = await request(app)
      .get('/api/me')
      .set('authorization', `DPoP ${token}`)
      .set('dpop', await proof(key, { htm: 'GET', htu: `${BASE}/api/me`, token }));
    expect(ok.status).toBe(200); // its verdict is now cached
    const res = await request(app).get('/api/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", error_description="the token is DPoP-bound: send it with the DPoP scheme and a proof", DPoP realm="api", algs="${ALGS}"`,
    );
    expect(res.body).toEqual({
      error: 'invalid_token',
      error_description: 'the token is DPoP-bound: send it with the DPoP scheme and a proof',
    });
    // And the cached verdict does not spare the proof: none, then a replayed one.
    const noProof = await request(app).get('/api/me').set('authorization', `DPoP ${token}`);
    expect(noProof.status).toBe(401);
    expect(noProof.body.error).toBe('invalid_dpop_proof');
  });

  test('a plain token from the same IdP still works as Bearer, and is invalid_token with the DPoP scheme', async () => {
    const app = appWithDpopRoute(host);
    const plain = await plainToken(idp);
    expect((await request(app).get('/api/me').set('authorization', `Bearer ${plain}`)).status).toBe(200);
    const res = await request(app)
      .get('/api/me')
      .set('authorization', `DPoP ${plain}`)
      .set('dpop', await proof(key, { htm: 'GET', htu: `${BASE}/api/me`, token: plain }));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `DPoP realm="api", error="invalid_token", error_description="the token is not DPoP-bound (no \\"cnf.jkt\\")", algs="${ALGS}", Bearer realm="api"`,
    );
  });
});

test('without baseURL the bound token is refused whatever the scheme, and DPoP stays unknown', async () => {
  const app = buildApp('express5', { issuerBaseURL: idp.issuer, audience: API_AUDIENCE });
  const bearer = await request(app).get('/api/me').set('authorization', `Bearer ${token}`);
  expect(bearer.status).toBe(401);
  expect(bearer.headers['www-authenticate']).toBe(
    'Bearer realm="api", error="invalid_token", error_description="the token is DPoP-bound, and this API does not take DPoP"',
  );
  const dpop = await request(app)
    .get('/api/me')
    .set('authorization', `DPoP ${token}`)
    .set('dpop', await proof(key, { htm: 'GET', htu: `${BASE}/api/me`, token }));
  expect(dpop.status).toBe(400);
  expect(dpop.body.error).toBe('invalid_request');
});

test('plain node:http: the path is req.url, the origin comes from baseURL', async () => {
  const server = buildNodeServer(options());
  const url = await listen(server);
  try {
    const res = await fetch(`${url}/api/orders?page=2`, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await proof(key, { htm: 'GET', htu: `${BASE}/api/orders`, token }),
      },
    });
    expect(res.status).toBe(200);
    const wrongOrigin = await fetch(`${url}/api/orders`, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await proof(key, { htm: 'GET', htu: `${url}/api/orders`, token }),
      },
    });
    expect(wrongOrigin.status).toBe(401);
  } finally {
    await close(server);
  }
});
