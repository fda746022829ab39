/**
 * `req.auth` and `req.oidc` live behind accessors on Express's per-app request prototypes (no property is
 * added to a request: context-guard.ts). An app mounted in another swaps the request's prototype while
 * the request is inside it and puts the parent's back when it leaves, so what bearer() and auth() set
 * inside a mounted app must read the same in the parent's later routes, and each request reads its own.
 */
import { describe, expect, test } from '@jest/globals';
import express from 'express';
import session from 'express-session';
import express4 from 'express4';
import request from 'supertest';
import { auth, bearer } from '../../lib/index.js';
import { AUDIENCE, useKeyServer } from '../helpers/key-server.js';

const ks = useKeyServer();

describe.each([
  ['Express 5', express],
  ['Express 4', express4],
])('%s', (_name, makeExpress) => {
  function apps() {
    const inner = makeExpress();
    inner.use(bearer({ issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE, authRequired: false }));
    inner.use(session({ secret: 'mounted-app-secret', resave: false, saveUninitialized: false }));
    inner.use(
      auth({
        issuerBaseURL: 'https://idp.example.com',
        baseURL: 'http://127.0.0.1:3000',
        clientID: 'app',
        clientSecret: 'secret',
      }),
    );
    inner.get('/inside', (req, res) => {
      res.json({ sub: req.auth?.payload.sub ?? null, signedIn: req.oidc.isAuthenticated() });
    });
    const outer = makeExpress();
    outer.use('/api', inner);
    // Reached after the mounted app let the request through (no route of its own matched).
    outer.get('/api/outside', (req, res) => {
      res.json({ sub: req.auth?.payload.sub ?? null, signedIn: req.oidc.isAuthenticated() });
    });
    return outer;
  }

  test('what bearer() and auth() set inside a mounted app reads the same in the parent app', async () => {
    const app = apps();
    const token = await ks.token({ sub: 'ada' });
    for (const path of ['/api/inside', '/api/outside']) {
      const res = await request(app).get(path).set('authorization', `Bearer ${token}`).expect(200);
      expect(res.body).toEqual({ sub: 'ada', signedIn: false });
    }
  });

  test('each request reads its own req.auth, and a request without a token none', async () => {
    const app = apps();
    const [ada, bob] = await Promise.all([ks.token({ sub: 'ada' }), ks.token({ sub: 'bob' })]);
    const [a, b, none] = await Promise.all([
      request(app).get('/api/outside').set('authorization', `Bearer ${ada}`),
      request(app).get('/api/outside').set('authorization', `Bearer ${bob}`),
      request(app).get('/api/outside'),
    ]);
    expect([a.body.sub, b.body.sub, none.body.sub]).toEqual(['ada', 'bob', null]);
  });
});
