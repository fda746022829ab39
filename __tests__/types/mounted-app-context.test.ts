/**
 * `req.auth` is an accessor on Express's shared request prototype (lib/api/request-auth.ts), `req.oidc` an
 * own property set by auth() and `res.oidc` an accessor on the shared response prototype
 * (context-guard.ts). An app mounted in another swaps the request's prototype while the request is inside
 * it and puts the parent's back when it leaves, so what bearer() and auth() set inside a mounted app must
 * read the same in the parent's later routes, and each request reads its own.
 */
import { describe, expect, test } from '@jest/globals';
import type express from 'express';
import session from 'express-session';
import request from 'supertest';
import { auth, bearer } from '../../lib/index.js';
import { AUDIENCE, useKeyServer } from '../helpers/key-server.js';
import { EXPRESS } from '../signin/harness.js';

/** An app that signs users in; no request here reaches the IdP. */
const SIGNIN_OPTIONS = {
  issuerBaseURL: 'https://idp.example.com',
  baseURL: 'http://127.0.0.1:3000',
  clientID: 'app',
  clientSecret: 'secret',
};

const ks = useKeyServer();

describe.each(EXPRESS)('%s', (_name, makeExpress) => {
  function apps() {
    const inner = makeExpress();
    inner.use(bearer({ issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE, authRequired: false }));
    inner.use(session({ secret: 'mounted-app-secret', resave: false, saveUninitialized: false }));
    inner.use(auth(SIGNIN_OPTIONS));
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

describe.each(EXPRESS)('%s: res.oidc, and what auth() adds to a request', (_name, makeExpress) => {
  function app() {
    const outer = makeExpress();
    const before: { req: (string | symbol)[]; res: (string | symbol)[] } = { req: [], res: [] };
    const after: { req: (string | symbol)[]; res: (string | symbol)[] } = { req: [], res: [] };
    outer.use(session({ secret: 'mounted-app-secret', resave: false, saveUninitialized: false }));
    outer.use((req, res, next) => {
      before.req = Reflect.ownKeys(req);
      before.res = Reflect.ownKeys(res);
      next();
    });
    outer.use(auth(SIGNIN_OPTIONS));
    outer.use((req, res, next) => {
      after.req = Reflect.ownKeys(req);
      after.res = Reflect.ownKeys(res);
      next();
    });
    const added = (now: (string | symbol)[], then: (string | symbol)[]) =>
      now.filter((key) => !then.includes(key)).map(String);
    const describeResponse = (_req: express.Request, res: express.Response) => {
      const first = res.oidc; // read twice: the accessor makes it once per response
      return {
        login: typeof res.oidc.login,
        logout: typeof res.oidc.logout,
        stable: first === res.oidc,
        addedToReq: added(after.req, before.req),
        addedToRes: added(after.res, before.res),
      };
    };
    outer.get('/here', (req, res) => {
      res.json(describeResponse(req, res));
    });
    // An app mounted after auth() has prototypes of its own: res.oidc must read the same there.
    const inner = makeExpress();
    inner.get('/inside', (req, res) => {
      res.json(describeResponse(req, res));
    });
    outer.use('/sub', inner);
    return outer;
  }

  test.each(['/here', '/sub/inside'])(
    '%s: res.oidc is there, and auth() added only req.oidc',
    async (path) => {
      const res = await request(app()).get(path).expect(200);
      // One property per request: each one added to an Express request costs a hidden class (context-guard.ts).
      expect(res.body).toEqual({
        login: 'function',
        logout: 'function',
        stable: true,
        addedToReq: ['oidc'],
        addedToRes: [],
      });
    },
  );

  test('two requests at once each get their own res.oidc', async () => {
    const seen: unknown[] = [];
    const outer = makeExpress();
    outer.use(session({ secret: 'mounted-app-secret', resave: false, saveUninitialized: false }));
    outer.use(auth(SIGNIN_OPTIONS));
    let release: () => void = () => undefined;
    const bothIn = new Promise<void>((resolve) => {
      release = resolve;
    });
    outer.get('/', async (_req, res) => {
      seen.push(res.oidc);
      if (seen.length === 2) release();
      await bothIn;
      res.json({ mine: seen.indexOf(res.oidc) });
    });
    const answers = await Promise.all([request(outer).get('/'), request(outer).get('/')]);
    expect(answers.map((a) => a.body.mine).sort()).toEqual([0, 1]);
    expect(seen[0]).not.toBe(seen[1]);
  });
});
