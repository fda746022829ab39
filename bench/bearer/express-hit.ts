/**
 * What a cache hit adds to a request of a real Express app, without sockets:
 * `node --import tsx bench/bearer/express-hit.ts` (env: ROUNDS, BASELINE=<git ref>).
 *
 * Why this as well as run.ts: over HTTP on a 2-core machine one round's ratio to the ceiling spreads by
 * ±8%, while a hit costs some 2% of a request; and micro.ts drives the middleware alone, where every
 * request shares one hidden class and V8's inline caches stay fast. Here each request goes through
 * Express's own `app.handle` (its prototype swap included, so every request has a hidden class of its own,
 * as in a server), to a route that counts it, in one process: the same app with a middleware that only
 * calls `next()` is the floor, and `req.auth = …` alone (what express-jwt and express-oauth2-jwt-bearer do
 * at the least) is shown beside it. Rounds of 10,000 requests, the order rotated each round; printed:
 * the median of each round's CPU per request over the floor's in the same round.
 *
 * `BASELINE=<git ref>` then runs the same in a second process with `bearer()` of that commit: two copies
 * in one process would share Express's prototype, where the first one's `req.auth` accessor makes the
 * other set a property instead (lib/api/request-auth.ts).
 */
import { spawnSync } from 'node:child_process';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import express, { type RequestHandler } from 'express';
import { bearer, type NodeMiddleware } from '../../lib/index.js';
import { loadOpenTelemetry } from '../../lib/protocol/observability/otel.js';
import { baselineLib } from '../baseline-lib.js';
import { AUDIENCE, startIssuer } from './keys.js';

const ROUNDS = Number(process.env.ROUNDS ?? 41);
const BATCH = 10_000;

await loadOpenTelemetry(); // as a server's first requests would have done
const issuer = await startIssuer();
// BENCH_LIB: the `lib/index.ts` of another commit (set for the second process of a BASELINE run).
const lib = process.env.BENCH_LIB;
const bearerOf = lib === undefined ? bearer : ((await import(lib)) as { bearer: typeof bearer }).bearer;
const options = { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE };
const VERDICT = Object.freeze({ payload: Object.freeze({ sub: 'user-0' }) });

let served = 0;
function appWith(middleware: NodeMiddleware): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use('/api', middleware as RequestHandler);
  app.get('/api/hello', (req) => {
    if ((req as { auth?: unknown }).auth !== undefined) served++;
  });
  return app;
}

const contenders: [string, express.Express][] = [
  ['next() only', appWith((_req, _res, next) => next())],
  [
    'req.auth = … only',
    appWith((req, _res, next) => {
      (req as { auth?: unknown }).auth = VERDICT;
      next();
    }),
  ],
  [process.env.BENCH_LABEL ?? 'bearer(), cache hit', appWith(bearerOf(options))],
];

const socket = new Socket();
const header = `Bearer ${issuer.token(0)}`;
/** A request as Node's parser hands it over: header strings of its own (their hashes not cached). */
function exchange(): [IncomingMessage, ServerResponse] {
  const req = new IncomingMessage(socket);
  const authorization = Buffer.from(header, 'latin1').toString('latin1');
  req.rawHeaders = ['Host', 'api.bench.test', 'Authorization', authorization, 'Accept', '*/*'];
  req.headers = { host: 'api.bench.test', authorization, accept: '*/*' };
  req.url = '/api/hello';
  req.method = 'GET';
  return [req, new ServerResponse(req)];
}

// Warm-up: the JWKS is fetched and the token verified once (asynchronously), then the JIT settles.
for (const [, app] of contenders) app(...exchange());
await new Promise((resolve) => setTimeout(resolve, 2000));
for (const [, app] of contenders) for (let i = 0; i < 5000; i++) app(...exchange());

const perRound = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < contenders.length; k++) {
    const [name, app] = contenders[(k + round) % contenders.length]!;
    const before = served;
    const start = process.cpuUsage();
    for (let i = 0; i < BATCH; i++) app(...exchange());
    const { user, system } = process.cpuUsage(start);
    // Every request reached the route with req.auth set, in the same tick (a hit never waits).
    if (served - before !== BATCH && name !== 'next() only')
      throw new Error(`${name}: a request was not served`);
    perRound.get(name)!.push((user + system) / BATCH);
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const floor = perRound.get('next() only')!;
console.log(`\nA request through Express, ${ROUNDS} rounds of ${BATCH}, Node ${process.version}`);
console.log(`floor (next() only): ${median(floor).toFixed(1)} µs CPU per request\n`);
console.log('| middleware | CPU per request over the floor: median (range) |\n|---|---|');
for (const [name] of contenders.slice(1)) {
  const added = perRound.get(name)!.map((us, i) => us - floor[i]!);
  const sorted = [...added].sort((a, b) => a - b);
  console.log(
    `| ${name} | ${median(added).toFixed(2)} µs (${sorted[0]!.toFixed(2)} to ${sorted.at(-1)!.toFixed(2)}) |`,
  );
}
issuer.close();
const baseline = process.env.BASELINE;
if (baseline !== undefined) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BENCH_LIB: baselineLib(baseline),
    BENCH_LABEL: `bearer() of ${baseline}`,
  };
  delete env.BASELINE;
  spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env, stdio: 'inherit' });
}
