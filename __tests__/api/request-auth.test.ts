/**
 * `req.auth` as an app sees it. In an Express app bearer() adds no property to the request (each one
 * costs V8 a hidden class per request: lib/api/request-auth.ts): `req.auth` is an accessor on
 * Express's shared request prototype, and the verdict is kept, hidden, on the request's `rawHeaders`
 * array. Whatever the app then does with the request and its headers must read the same as a plain
 * property would, and show no verdict.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { describe, expect, test } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { type AuthResult, bearer, requireScope } from '../../lib/index.js';
import { AUDIENCE, useKeyServer } from '../helpers/key-server.js';
import { EXPRESS } from '../signin/harness.js';

const ks = useKeyServer();

/** `rawHeaders` (name, value, name, value...) as the pairs `new Headers()` takes. */
const pairs = (raw: string[]): [string, string][] =>
  raw.flatMap((value, i) => (i % 2 === 0 ? [[value, raw[i + 1]!] as [string, string]] : []));

/** Which of the two headers the test sends a `Headers` built from the request carries. */
const carried = (headers: Headers) => ['authorization', 'x-trace'].filter((name) => headers.has(name));

const protect = () => bearer({ issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE });

describe.each(EXPRESS)('%s', (_name, makeExpress) => {
  test('req.auth reads the verdict, and bearer() added no property to the request', async () => {
    const app = makeExpress();
    let before: (string | symbol)[] = [];
    app.use((req, _res, next) => {
      before = Reflect.ownKeys(req);
      next();
    });
    app.use(protect());
    app.use((req, res) => {
      res.json({
        sub: req.auth?.payload.sub,
        scopes: req.auth?.scopes,
        added: Reflect.ownKeys(req)
          .filter((key) => !before.includes(key))
          .map(String),
      });
    });
    const token = await ks.token({ sub: 'ada', scope: 'orders:read' });
    const res = await request(app).get('/').set('authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ sub: 'ada', scopes: ['orders:read'], added: [] });
  });

  test('the request and its headers show no verdict: logged, copied, serialised, forwarded with fetch', async () => {
    const app = makeExpress();
    app.use(protect());
    app.use((req, res) => {
      res.json({
        sub: req.auth?.payload.sub,
        forwarded: carried(new Headers(req.headers as Record<string, string>)),
        rawForwarded: carried(new Headers(pairs(req.rawHeaders))),
        copied:
          Object.getOwnPropertySymbols(req.rawHeaders).length +
          Object.getOwnPropertySymbols([...req.rawHeaders]).length +
          Object.getOwnPropertySymbols({ ...req.headers }).length,
        rawKeys: Object.keys(req.rawHeaders).length === req.rawHeaders.length,
        logged: `${inspect(req, { depth: 3 })} ${inspect(req.rawHeaders)} ${inspect(req.headers)}`,
        json: JSON.stringify([req.rawHeaders, req.headers]),
      });
    });
    const token = await ks.token({ sub: 'ada' });
    const res = await request(app).get('/').set('authorization', `Bearer ${token}`).set('x-trace', '1');
    expect(res.status).toBe(200);
    expect(res.body.sub).toBe('ada');
    expect(res.body.forwarded).toEqual(['authorization', 'x-trace']);
    expect(res.body.rawForwarded).toEqual(['authorization', 'x-trace']);
    expect(res.body.copied).toBe(0);
    expect(res.body.rawKeys).toBe(true);
    // The verdict (its `payload`, its `scopes`) appears nowhere; the header alone holds the token, as it did.
    for (const shown of [res.body.logged, res.body.json]) {
      expect(shown).not.toContain('payload');
      expect(shown).not.toContain('scopes');
      expect(shown).not.toContain('portcullis');
    }
  });

  test('a route in an app mounted after bearer() reads the same req.auth', async () => {
    const outer = makeExpress();
    outer.use(protect());
    const inner = makeExpress();
    inner.get('/inside', (req, res) => {
      res.json({ sub: req.auth?.payload.sub });
    });
    outer.use('/sub', inner);
    const token = await ks.token({ sub: 'ada' });
    const res = await request(outer).get('/sub/inside').set('authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ sub: 'ada' });
  });

  test("an req.auth set earlier (another library's) is replaced by bearer()'s verdict", async () => {
    const app = makeExpress();
    app.use((req, _res, next) => {
      (req as { auth?: unknown }).auth = { payload: { sub: 'forged' } };
      next();
    });
    app.use(protect());
    app.get('/', requireScope('orders:read'), (req, res) => {
      res.json({ sub: req.auth?.payload.sub });
    });
    const token = await ks.token({ sub: 'ada', scope: 'orders:read' });
    const res = await request(app).get('/').set('authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ sub: 'ada' });
  });

  test('a value the app assigns to req.auth after bearer() reads back', async () => {
    const app = makeExpress();
    app.use(protect());
    app.use((req, res) => {
      const verified = req.auth;
      (req as { auth?: unknown }).auth = { ...verified, mine: true };
      res.json({ mine: (req as { auth?: { mine?: boolean } }).auth?.mine, sub: req.auth?.payload.sub });
    });
    const token = await ks.token({ sub: 'ada' });
    const res = await request(app).get('/').set('authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ mine: true, sub: 'ada' });
  });
});

test('an Express app where bearer() never ran reads req.auth as undefined', async () => {
  const guarded = express();
  guarded.use(protect());
  guarded.get('/', (_req, res) => {
    res.end();
  });
  await request(guarded)
    .get('/')
    .set('authorization', `Bearer ${await ks.token()}`)
    .expect(200);
  const other = express();
  other.get('/', (req, res) => {
    res.json({ auth: typeof req.auth });
  });
  expect((await request(other).get('/').expect(200)).body).toEqual({ auth: 'undefined' });
});

test('plain node:http: req.auth is a property of the request', async () => {
  const middleware = protect();
  let seen: { own: boolean; sub: unknown } | undefined;
  const server: Server = createServer((req, res) => {
    middleware(req, res, () => {
      const auth = (req as IncomingMessage & { auth?: AuthResult }).auth;
      seen = { own: Object.hasOwn(req, 'auth'), sub: auth?.payload.sub };
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await fetch(url, { headers: { authorization: `Bearer ${await ks.token({ sub: 'ada' })}` } });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  expect(seen).toEqual({ own: true, sub: 'ada' });
});

test("another copy of portcullis (ESM next to CommonJS), or the app, owning Express's req.auth accessor: bearer() sets req.auth on the request", async () => {
  const app = express();
  const shared = Object.getPrototypeOf(app.request) as object;
  const ours = Object.getOwnPropertyDescriptor(shared, 'auth');
  // What the other copy (or the app) would have put there first: an accessor that knows nothing of this
  // copy's verdicts, and here not even a setter.
  Object.defineProperty(shared, 'auth', { configurable: true, get: () => undefined });
  try {
    app.use(protect());
    app.get('/', (req, res) => {
      res.json({ sub: req.auth?.payload.sub, own: Object.hasOwn(req, 'auth') });
    });
    const token = await ks.token({ sub: 'ada' });
    const res = await request(app).get('/').set('authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({ sub: 'ada', own: true });
  } finally {
    if (ours === undefined) Reflect.deleteProperty(shared, 'auth');
    else Object.defineProperty(shared, 'auth', ours);
  }
});

test('plain node:http: an error thrown by what comes after bearer() reaches next(err) instead of leaving the request hanging', async () => {
  const middleware = protect();
  const server: Server = createServer((req, res) => {
    // A token bearer() has not seen: verified asynchronously, so `next` runs from a promise.
    middleware(req, res, (err?: unknown) => {
      if (err === undefined) throw new Error('the route failed');
      res.statusCode = 500;
      res.end(err instanceof Error ? err.message : 'error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${await ks.token({ sub: 'a-new-caller' })}` },
      signal: AbortSignal.timeout(3000),
    });
    expect([res.status, await res.text()]).toEqual([500, 'the route failed']);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
