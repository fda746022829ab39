/**
 * `req.oidc` is typed on every Express request (so sign-in apps need no `!`). Where `auth()` is not
 * mounted, reading it must say so instead of crashing on `undefined`, on Express 4 and 5, without
 * touching Connect / `node:http` requests, other apps, or sign-in apps' own `req.oidc`.
 */
import { createServer, IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from '@jest/globals';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { auth, bearer, requireScope } from '../../lib/index.js';
import { EXPRESS } from '../signin/harness.js';

/** An app that signs users in; no request here reaches the IdP. */
const SIGNIN_OPTIONS = {
  issuerBaseURL: 'https://idp.example.com',
  baseURL: 'http://127.0.0.1:3000',
  clientID: 'app',
  clientSecret: 'secret',
};

const bearerOptions = {
  issuer: 'https://idp.example.com/',
  jwksUri: 'https://idp.example.com/jwks',
  audience: 'https://api.example.com',
  authRequired: false, // requests without a token reach the routes: no IdP needed
};

const onError: express.ErrorRequestHandler = (err: { code?: string; message?: string }, _req, res, _next) => {
  res.status(500).json({ code: err.code, message: err.message });
};

describe.each(EXPRESS)('%s, bearer-only app', (_name, makeExpress) => {
  function bearerOnlyApp() {
    const app = makeExpress();
    app.use(bearer(bearerOptions));
    app.get('/me', (req, res) => {
      res.json({ authed: req.oidc.isAuthenticated() });
    });
    app.get('/login', (_req, res) => {
      void res.oidc.login();
    });
    app.get('/scoped', requireScope('orders:read'), (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/keys', (req, res) => {
      const keys: string[] = [];
      for (const key in req) keys.push(key); // own and inherited enumerable members
      res.json({ own: Object.hasOwn(req, 'oidc'), enumerable: keys.includes('oidc') });
    });
    app.use(onError);
    return app;
  }

  test('reading req.oidc says to mount auth(), instead of "Cannot read properties of undefined"', async () => {
    const res = await request(bearerOnlyApp()).get('/me').expect(500);
    expect(res.body).toEqual({
      code: 'ERR_SESSION_MISSING',
      message: 'req.oidc is set by auth(): mount app.use(auth({ ... })) before this route',
    });
  });

  test('res.oidc too', async () => {
    const res = await request(bearerOnlyApp()).get('/login').expect(500);
    expect(res.body.message).toBe(
      'res.oidc is set by auth(): mount app.use(auth({ ... })) before this route',
    );
  });

  test('the scope checks still answer 401 without a token (they never trip the accessor)', async () => {
    const res = await request(bearerOnlyApp()).get('/scoped').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  test('the request shows no oidc member (not own, not enumerable)', async () => {
    const res = await request(bearerOnlyApp()).get('/keys').expect(200);
    expect(res.body).toEqual({ own: false, enumerable: false });
  });
});

test('other Express apps in the process, and Node itself, are left alone', async () => {
  const guarded = express();
  guarded.use(bearer(bearerOptions));
  guarded.get('/', (_req, res) => {
    res.end();
  });
  await request(guarded).get('/').expect(200);

  const other = express();
  other.get('/', (req, res) => {
    res.json({
      oidc: typeof (req as { oidc?: unknown }).oidc,
      // res.oidc's accessor is on Express's shared response prototype (for mounted apps), and reads
      // as nothing in an app where portcullis never ran.
      resOidc: typeof (res as { oidc?: unknown }).oidc,
    });
  });
  expect((await request(other).get('/').expect(200)).body).toEqual({
    oidc: 'undefined',
    resOidc: 'undefined',
  });
  expect(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'oidc')).toBeUndefined();
  expect(Object.getOwnPropertyDescriptor(express.request, 'oidc')).toBeUndefined();
});

test('a frozen app.request is left as it is, and requests still pass', async () => {
  const app = express();
  Object.freeze(app.request);
  app.use(bearer(bearerOptions));
  app.get('/', (req, res) => {
    res.json({ oidc: typeof (req as { oidc?: unknown }).oidc });
  });
  expect((await request(app).get('/').expect(200)).body).toEqual({ oidc: 'undefined' });
});

test('plain node:http: bearer() leaves the request as it is', async () => {
  const protect = bearer(bearerOptions);
  let seen: unknown = 'not called';
  const server: Server = createServer((req, res) => {
    protect(req, res, () => {
      seen = (req as { oidc?: unknown }).oidc;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  expect(seen).toBeUndefined();
  expect('oidc' in IncomingMessage.prototype).toBe(false);
});

describe.each(EXPRESS)('%s, sign-in app', (_name, makeExpress) => {
  function signinApp() {
    const app = makeExpress();
    app.use(session({ secret: 'test secret', resave: false, saveUninitialized: false }));
    app.get('/before-auth', (req, res) => {
      res.json({ authed: req.oidc.isAuthenticated() });
    });
    app.use(auth(SIGNIN_OPTIONS));
    app.get('/after-auth', (req, res) => {
      res.json({ authed: req.oidc.isAuthenticated(), own: Object.hasOwn(req, 'oidc'), user: req.oidc.user });
    });
    app.get('/assigned', (req, res) => {
      // An app (or a test) may still put its own value there, and reads it back.
      (req as { oidc: unknown }).oidc = { mine: true };
      res.json({ oidc: (req as { oidc: unknown }).oidc });
    });
    app.use(onError);
    return app;
  }

  test('req.oidc set by auth() reads as usual', async () => {
    const res = await request(signinApp()).get('/after-auth').expect(200);
    expect(res.body).toEqual({ authed: false, own: true });
  });

  test('a value the app assigns to req.oidc reads back', async () => {
    const res = await request(signinApp()).get('/assigned').expect(200);
    expect(res.body).toEqual({ oidc: { mine: true } });
  });

  test('a route mounted before auth() is told so, once auth() has seen a request', async () => {
    const app = signinApp();
    await request(app).get('/after-auth').expect(200);
    const res = await request(app).get('/before-auth').expect(500);
    expect(res.body.message).toBe(
      'req.oidc is set by auth(): mount app.use(auth({ ... })) before this route',
    );
  });
});

test("another copy of portcullis (ESM next to CommonJS) owning Express's res.oidc accessor: auth() sets res.oidc on the response", async () => {
  const app = express();
  const shared = Object.getPrototypeOf(app.response) as object;
  // What the other copy would have put there first: an accessor that knows nothing of this copy's requests.
  Object.defineProperty(shared, 'oidc', { configurable: true, get: () => undefined });
  try {
    app.use(session({ secret: 'test secret', resave: false, saveUninitialized: false }));
    app.use(auth(SIGNIN_OPTIONS));
    app.get('/', (_req, res) => {
      res.json({ login: typeof res.oidc?.login, own: Object.hasOwn(res, 'oidc') });
    });
    expect((await request(app).get('/').expect(200)).body).toEqual({ login: 'function', own: true });
  } finally {
    Reflect.deleteProperty(shared, 'oidc');
  }
});
