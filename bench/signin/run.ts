/**
 * Sign-in benchmark, all in one run on loopback against the in-process oidc-provider:
 *
 * 1. Complete login flows per second (GET /login → IdP sign-in page → callback → session), for
 *    portcullis and express-openid-connect, measured the same way, alternating rounds.
 * 2. The added latency of requiresAuth() on a signed-in request versus a bare route (autocannon,
 *    one connection, so latency = 1 / throughput), for both libraries.
 * 3. portcullis' requiresAuth() alone, without HTTP: called on a request that auth() prepared from a
 *    real signed-in session.
 *
 * Run: node --import tsx bench/signin/run.ts [logins=300] [concurrency=8] [seconds=5]
 */
import autocannon from 'autocannon';
import express from 'express';
import eocModule from 'express-openid-connect';
import session, { MemoryStore } from 'express-session';
import { startApp } from '../../__tests__/helpers/app.js';
import type { TestBrowser } from '../../__tests__/helpers/browser.js';
import { startIdp, WEB_SECRET } from '../../__tests__/helpers/idp.js';
import { auth, requiresAuth } from '../../lib/index.js';
import { eocOptions } from './eoc.js';
import { login } from './login.js';

const LOGINS = Number(process.argv[2] ?? 300);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const SECONDS = Number(process.argv[4] ?? 5);

const quiet = console.warn;
console.warn = (...a: unknown[]) => (String(a[0]).startsWith('oidc-provider') ? undefined : quiet(...a));
console.info = () => undefined;

const { auth: eocAuth, requiresAuth: eocRequiresAuth } = eocModule;
const idp = await startIdp();
const scope = 'openid profile email';

/** portcullis' sessions and its auth(), for the micro-benchmark of requiresAuth() alone. */
const store = new MemoryStore();
let portcullisAuth: express.RequestHandler | undefined;
const portcullis = await startApp((baseURL) => {
  idp.allowApp(baseURL);
  const app = express();
  app.use(session({ secret: 'bench-secret', store, resave: false, saveUninitialized: false }));
  portcullisAuth = auth({
    issuerBaseURL: idp.issuer,
    baseURL,
    clientID: 'web',
    clientSecret: WEB_SECRET,
    authorizationParams: { scope },
  });
  app.use(portcullisAuth);
  app.get('/bare', (_req, res) => res.send('ok'));
  app.get('/protected', requiresAuth(), (_req, res) => res.send('ok'));
  return app;
});

const eoc = await startApp((baseURL) => {
  idp.allowApp(baseURL);
  const app = express();
  app.use(eocAuth(eocOptions(idp.issuer, baseURL, scope)));
  app.get('/bare', (_req, res) => res.send('ok'));
  app.get('/protected', eocRequiresAuth(), (_req, res) => res.send('ok'));
  return app;
});

async function loginRate(baseURL: string, count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < count) await login(baseURL);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

async function cannon(url: string, cookie: string): Promise<{ rps: number; p50: number }> {
  const result = await autocannon({ url, connections: 1, duration: SECONDS, headers: { cookie } });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50 };
}

function cookieFor(browser: TestBrowser, baseURL: string): string {
  return browser.cookieHeader(new URL(baseURL));
}

// Warm up both (discovery, JWKS, JIT).
await loginRate(portcullis.baseURL, 20);
await loginRate(eoc.baseURL, 20);

const rates = { portcullis: [] as number[], eoc: [] as number[] };
for (let round = 0; round < 2; round++) {
  rates.portcullis.push(await loginRate(portcullis.baseURL, LOGINS / 2));
  rates.eoc.push(await loginRate(eoc.baseURL, LOGINS / 2));
}
const best = (xs: number[]) => Math.max(...xs);

const latency: Record<
  string,
  { bare: number; protected: number; addedMs: number; p50Bare: number; p50Protected: number }
> = {};
for (const [name, app] of [
  ['portcullis', portcullis],
  ['express-openid-connect', eoc],
] as const) {
  const cookie = cookieFor(await login(app.baseURL), app.baseURL);
  await cannon(`${app.baseURL}/protected`, cookie); // warm-up
  // Interleaved rounds, best of each: other load on the machine disturbs both routes alike.
  let bare = { rps: 0, p50: 0 };
  let prot = { rps: 0, p50: 0 };
  for (let round = 0; round < 3; round++) {
    const b = await cannon(`${app.baseURL}/bare`, cookie);
    const p = await cannon(`${app.baseURL}/protected`, cookie);
    if (b.rps > bare.rps) bare = b;
    if (p.rps > prot.rps) prot = p;
  }
  latency[name] = {
    bare: Math.round(bare.rps),
    protected: Math.round(prot.rps),
    addedMs: Number((1000 / prot.rps - 1000 / bare.rps).toFixed(4)),
    p50Bare: bare.p50,
    p50Protected: prot.p50,
  };
}

console.log(
  '\n## Complete login flows per second (concurrency %d, best of 2 rounds of %d)',
  CONCURRENCY,
  LOGINS / 2,
);
console.log('| library | logins/s |\n| --- | --- |');
console.log(`| portcullis | ${best(rates.portcullis).toFixed(1)} |`);
console.log(`| express-openid-connect | ${best(rates.eoc).toFixed(1)} |`);
console.log(
  `ratio portcullis / express-openid-connect: ${(best(rates.portcullis) / best(rates.eoc)).toFixed(2)}x`,
);

console.log(
  '\n## requiresAuth() on a signed-in request vs a bare route (1 connection, best of 3 interleaved rounds of %d s)',
  SECONDS,
);
console.log(
  '| library | bare req/s | requiresAuth req/s | added latency per request |\n| --- | --- | --- | --- |',
);
for (const [name, l] of Object.entries(latency)) {
  console.log(`| ${name} | ${l.bare} | ${l.protected} | ${(l.addedMs * 1000).toFixed(1)} µs |`);
}

// The middleware alone, on a signed-in request: what requiresAuth() adds, without HTTP noise. The
// request is prepared as in an app: a session the store holds after a real login (parsed, as
// express-session hands it over), then auth() (its runtime, the request's provider, req.oidc).
{
  const sessions = await new Promise<Record<string, unknown>>((resolve, reject) =>
    store.all((err, all) => (err ? reject(err) : resolve((all ?? {}) as Record<string, unknown>))),
  );
  const signedIn = Object.values(sessions).find((s) => JSON.stringify(s).includes('"portcullis"'));
  if (signedIn === undefined) throw new Error('no signed-in portcullis session in the store');
  const req = {
    url: '/protected',
    method: 'GET',
    headers: {},
    session: JSON.parse(JSON.stringify(signedIn)),
    sessionStore: {},
  } as never;
  const res = { setHeader() {}, getHeader() {}, headersSent: false } as never;
  await new Promise<void>((resolve, reject) =>
    portcullisAuth!(req, res, (err?: unknown) => (err ? reject(err) : resolve())),
  );
  const middleware = requiresAuth();
  let passed = 0;
  const next = (err?: unknown) => {
    if (err) throw err;
    passed++;
  };
  const N = 2_000_000;
  for (let i = 0; i < 100_000; i++) middleware(req, res, next);
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) middleware(req, res, next);
  const ns = Number(process.hrtime.bigint() - t) / N;
  if (passed !== N + 100_000)
    throw new Error(`requiresAuth() let ${passed} of ${N + 100_000} requests through`);
  console.log(
    `\nrequiresAuth() middleware alone on a signed-in request: ${ns.toFixed(0)} ns per request (${passed} passed)`,
  );
}

await portcullis.close();
await eoc.close();
await idp.close();
process.exit(0);
