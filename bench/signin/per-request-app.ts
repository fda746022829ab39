/**
 * The measuring process of per-request.ts (see there): every app of the comparison, each on its own
 * port, so that `process.cpuUsage()` counts the apps alone (the IdP and the load generator run in the
 * parent). Reads BENCH_ISSUER, BENCH_OTEL, BENCH_BASELINE and BENCH_STORE (`memory`, or `redis` for
 * connect-redis at REDIS_URL); prints `{ apps }` as one JSON line, then
 * answers the parent's IPC messages: `cpu` (this process's CPU time, µs), `ops` (store calls so far),
 * `sizes` (bytes of the largest session in each store), `alone` (auth() timed without HTTP, see
 * middleware-alone.ts) and `exit`.
 */
import { RedisStore } from 'connect-redis';
import express, { type Express } from 'express';
import eocModule from 'express-openid-connect';
import session, { MemoryStore, type Store } from 'express-session';
import { createClient } from 'redis';
import { startApp } from '../../__tests__/helpers/app.js';
import { WEB_SECRET } from '../../__tests__/helpers/idp.js';
import { type auth as authType, throttleTouch } from '../../lib/index.js';
import { eocOptions } from './eoc.js';
import { timeMiddleware } from './middleware-alone.js';

const issuer = process.env.BENCH_ISSUER!;
const mode = process.env.BENCH_OTEL ?? 'api';
const scope = 'openid profile email offline_access';
console.info = () => undefined;

if (mode === 'sdk') {
  const { setUpNoopSdk } = await import('../service/noop-sdk.js');
  await setUpNoopSdk();
}
const libs: Record<string, typeof authType> = { portcullis: (await import('../../lib/index.js')).auth };
if (process.env.BENCH_BASELINE !== undefined) {
  libs.baseline = ((await import(process.env.BENCH_BASELINE)) as { auth: typeof authType }).auth;
}

/** A fresh store of the kind the run asked for: MemoryStore, or connect-redis under a prefix of its own. */
const redis =
  process.env.BENCH_STORE === 'redis'
    ? await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect()
    : undefined;
const runId = `bench-${process.pid}`;
const newStore = (name: string): Store =>
  redis === undefined ? new MemoryStore() : new RedisStore({ client: redis, prefix: `${runId}:${name}:` });

/** Store calls by app and method: how often a signed-in request reads and writes its session. */
const ops: Record<string, Record<string, number>> = {};
const stores: Record<string, Store> = {};
function counted(name: string, store: Store): Store {
  const calls: Record<string, number> = { get: 0, set: 0, touch: 0, destroy: 0 };
  ops[name] = calls;
  stores[name] = store;
  const methods = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of Object.keys(calls)) {
    const original = methods[method]!.bind(store);
    methods[method] = (...args: unknown[]) => {
      calls[method]!++;
      return original(...args);
    };
  }
  return store;
}

/** Every app answers `/bare` with a constant, and `/whoami` with whether the request is signed in. */
function routes(app: Express, signedIn: (req: express.Request) => boolean): Express {
  app.get('/bare', (_req, res) => {
    res.send('ok');
  });
  app.get('/whoami', (req, res) => {
    res.send(signedIn(req) ? 'signed in' : 'signed out');
  });
  return app;
}

const sessionSecret = 'bench-session-secret-0123456789';
const apps: Record<string, string> = {};
const start = async (name: string, build: (baseURL: string) => Express) => {
  apps[name] = (await startApp(build)).baseURL;
};

await start('no auth', () => routes(express(), () => false));
// express-session alone, with a session of one small value (GET /seed makes it): its own cost, with
// the store touched on every request (as express-session does) and at most once a minute.
const smallSessionApp = (store: Store) => () => {
  const app = express();
  app.use(session({ secret: sessionSecret, store, resave: false, saveUninitialized: false }));
  app.get('/seed', (req, res) => {
    (req.session as unknown as { n: number }).n = 1;
    res.send('seeded');
  });
  return routes(app, (req) => (req.session as unknown as { n?: number }).n === 1);
};
await start('express-session (small session)', smallSessionApp(counted('small', newStore('small'))));
await start(
  'express-session (small session, throttleTouch)',
  smallSessionApp(throttleTouch(counted('small, throttled', newStore('small-throttled')))),
);
// express-session alone, on the very sessions that portcullis' logins leave in this store: portcullis with
// `sessionTouchInterval: 0`, so that express-session touches the store on every request as it does alone.
const everyTouch = 'portcullis (sessionTouchInterval: 0)';
const everyTouchStore = counted(everyTouch, newStore('portcullis-every-touch'));
await start("express-session (portcullis' session)", () => {
  const app = express();
  app.use(
    session({ secret: sessionSecret, store: everyTouchStore, resave: false, saveUninitialized: false }),
  );
  return routes(app, (req) => req.session.portcullis !== undefined);
});
const middlewares: Record<string, express.RequestHandler> = {};
// portcullis as it comes (its store's touches throttled, sessionTouchInterval 60), and the baseline's auth().
const contenders: {
  name: string;
  auth: typeof authType;
  store: Store;
  options?: { sessionTouchInterval: 0 };
}[] = Object.entries(libs).map(([name, auth]) => ({ name, auth, store: counted(name, newStore(name)) }));
contenders.push({
  name: everyTouch,
  auth: libs.portcullis!,
  store: everyTouchStore,
  options: { sessionTouchInterval: 0 },
});
for (const { name, auth, store, options } of contenders) {
  await start(name, (baseURL) => {
    const app = express();
    app.use(session({ secret: sessionSecret, store, resave: false, saveUninitialized: false }));
    middlewares[name] = auth({
      issuerBaseURL: issuer,
      baseURL,
      clientID: 'web',
      clientSecret: WEB_SECRET,
      authorizationParams: { scope },
      ...options,
    });
    app.use(middlewares[name]);
    return routes(app, (req) => req.oidc.isAuthenticated());
  });
}

/** The sessions in a store, as JSON (the largest first). */
const sessionsOf = (store: Store) =>
  new Promise<string[]>((resolve, reject) =>
    store.all!((err, all) =>
      err
        ? reject(err)
        : resolve(
            Object.values(all ?? {})
              .map((s) => JSON.stringify(s))
              .sort((a, b) => b.length - a.length),
          ),
    ),
  );
const eoc = (store?: Store) => (baseURL: string) => {
  const app = express();
  app.use(
    eocModule.auth({
      ...eocOptions(issuer, baseURL, scope),
      ...(store === undefined ? {} : { session: { store: store as never } }),
    }),
  );
  return routes(app, (req) => req.oidc.isAuthenticated());
};
await start('express-openid-connect (session store)', eoc(counted('eoc', newStore('eoc'))));
await start('express-openid-connect (cookie)', eoc());

process.on('message', (message: string) => {
  if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send!({ cpu: user + system });
  } else if (message === 'ops') {
    process.send!({ ops });
  } else if (message === 'sizes') {
    void (async () => {
      const sizes: Record<string, number> = {};
      for (const [name, store] of Object.entries(stores))
        sizes[name] = (await sessionsOf(store))[0]?.length ?? 0;
      process.send!({ sizes });
    })();
  } else if (message === 'alone') {
    void (async () => {
      const alone: Record<string, Awaited<ReturnType<typeof timeMiddleware>>> = {};
      for (const [name, middleware] of Object.entries(middlewares)) {
        const json = (await sessionsOf(stores[name]!)).find((s) => s.includes('"portcullis"'))!;
        alone[name] = await timeMiddleware(middleware, json);
      }
      process.send!({ alone });
    })();
  } else if (message === 'exit') {
    void (async () => {
      if (redis !== undefined) {
        for await (const keys of redis.scanIterator({ MATCH: `${runId}:*`, COUNT: 1000 }))
          if (keys.length > 0) await redis.del(keys);
      }
      process.exit(0);
    })();
  }
});
process.stdout.write(`${JSON.stringify({ apps })}\n`);
