/**
 * Per-token cost of portcullis's verifier alone (no HTTP): `node --import tsx bench/bearer/micro.ts`.
 * Useful to see where the time goes: cache hits, misses, and raw jose for comparison.
 *
 * First, a cache hit through the whole `bearer()` middleware, on real `IncomingMessage`s carrying the
 * token in their `Authorization` header (a fresh string each, as from the HTTP parser), less the same
 * requests through a middleware that only calls `next()`. `BASELINE=<git ref>` adds bearer() of that
 * commit to the same rounds, interleaved. `MICRO=middleware` stops there.
 *
 * OpenTelemetry: `BENCH_OTEL=sdk` registers the 2.x SDK exporting nowhere (`sdk-traces`, `sdk-metrics`:
 * only its tracer or its meter provider) before bearer() is made, and then also times the SDK's
 * counter `add` and histogram `record` of a cache hit alone; run with
 * `--import ./bench/service/without-otel.ts` for a process without `@opentelemetry/api`.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import * as jose from 'jose';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import { bearer, type NodeMiddleware } from '../../lib/index.js';
import { createDpopProofVerifier } from '../../lib/protocol/dpop/proof-verifier.js';
import { createDpopReplayCache } from '../../lib/protocol/dpop/replay-cache.js';
import { loadOpenTelemetry } from '../../lib/protocol/observability/otel.js';
import { createTokenVerifier } from '../../lib/protocol/token-verifier.js';
import { baselineBearer } from './baseline.js';
import { dpopClient } from './dpop.js';
import { AUDIENCE, startIssuer } from './keys.js';

const otel = process.env.BENCH_OTEL ?? 'api';
if (otel.startsWith('sdk')) {
  const { setUpNoopSdk } = await import('../service/noop-sdk.js');
  await setUpNoopSdk(otel === 'sdk' ? undefined : otel === 'sdk-traces' ? 'traces' : 'metrics');
}
await loadOpenTelemetry(); // as a server's first requests would have done, before any is timed
const issuer = await startIssuer();
const tokens = Array.from({ length: 2000 }, (_, n) => issuer.token(n));

/** A promise is awaited; a synchronous answer (a cache hit) is not, so no microtask is counted. */
async function time(name: string, n: number, fn: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < Math.min(n, 2000); i++) await fn(i); // warm-up
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const result = fn(i);
    if (result instanceof Promise) await result;
  }
  const { user, system } = process.cpuUsage(start);
  console.log(`${name.padEnd(40)} ${((user + system) / n).toFixed(2)} µs CPU per token`);
}

// --- A cache hit through the middleware --------------------------------------------------------

const options = { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE };
const contenders: [string, NodeMiddleware][] = [
  ['next() only', (_req, _res, next) => next()],
  ['bearer(), cache hit', bearer(options)],
];
if (process.env.BASELINE !== undefined) {
  contenders.push([
    `bearer() of ${process.env.BASELINE}`,
    (await baselineBearer(process.env.BASELINE))(options),
  ]);
}
const socket = new Socket();
const header = `Bearer ${tokens[0]}`;
function request(): IncomingMessage {
  const req = new IncomingMessage(socket);
  // A header value of its own, as each request's is: its hash is not cached in the string.
  req.headers = { host: 'api.bench.test', authorization: Buffer.from(header, 'latin1').toString('latin1') };
  req.url = '/api/hello';
  req.method = 'GET';
  return req;
}
for (const [, middleware] of contenders) {
  await new Promise<void>((ok) => middleware(request(), new ServerResponse(request()), () => ok()));
}
const BATCH = 20_000;
const perRound: Record<string, number[]> = {};
let passed = 0;
const letThrough = () => {
  passed++;
};
for (let round = 0; round < 15; round++) {
  for (const [name, middleware] of contenders) {
    const requests = Array.from({ length: BATCH }, request);
    const res = new ServerResponse(requests[0]!);
    const start = process.cpuUsage();
    for (const req of requests) middleware(req, res, letThrough);
    const { user, system } = process.cpuUsage(start);
    perRound[name] = [...(perRound[name] ?? []), (user + system) / BATCH];
  }
}
if (passed !== 15 * BATCH * contenders.length) throw new Error('a request was not let through');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const floor = perRound['next() only']!;
for (const [name] of contenders.slice(1)) {
  const added = perRound[name]!.map((us, i) => us - floor[i]!);
  const sorted = [...added].sort((a, b) => a - b);
  console.log(
    `${`${name} (middleware, ${otel})`.padEnd(40)} ${median(added).toFixed(2)} µs CPU per request over next() (${sorted[0]!.toFixed(2)} to ${sorted.at(-1)!.toFixed(2)}, 15 rounds)`,
  );
}
if (otel === 'sdk' || otel === 'sdk-metrics') await timeHitMetrics();
if (process.env.MICRO === 'middleware') {
  issuer.close();
  process.exit(0);
}

/** What the SDK's instruments cost per cache hit: the counter's `add` and the histogram's `record`. */
async function timeHitMetrics(): Promise<void> {
  const { metrics } = await import('@opentelemetry/api');
  const meter = metrics.getMeterProvider().getMeter('bench');
  const counter = meter.createCounter('bench.verifications');
  const histogram = meter.createHistogram('bench.verification.duration', { unit: 's' });
  const hit = {
    'portcullis.outcome': 'accepted',
    'portcullis.auth.scheme': 'Bearer',
    'portcullis.cache.result': 'hit',
  };
  let plain = 0;
  await time("SDK counter add, a hit's attributes", 200_000, () => counter.add(1, { ...hit }));
  await time('SDK histogram record, the same', 200_000, () => histogram.record(0.00002, { ...hit }));
  await time('a plain increment (observed counter)', 200_000, () => {
    plain++;
  });
  if (plain === 0) throw new Error('not counted');
}

// --- The verifier alone --------------------------------------------------------------------------

const config = validateBearerOptions(
  { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE },
  {},
);
const cached = createTokenVerifier(config);
await time('portcullis, one token (cache hit)', 20000, () => cached.verify(tokens[0]!));
await time('portcullis, 1,000 tokens (cache hits)', 20000, (i) => cached.verify(tokens[i % 1000]!));
const small = createTokenVerifier(
  validateBearerOptions(
    { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, cacheMaxEntries: 1000 },
    {},
  ),
);
await time('portcullis, 2,000 tokens, 1,000-entry cache', 10000, (i) => small.verify(tokens[i % 2000]!));
const uncached = createTokenVerifier(
  validateBearerOptions(
    { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, cacheMaxEntries: 0 },
    {},
  ),
);
await time('portcullis, no cache', 10000, (i) => uncached.verify(tokens[i % 2000]!));
const jwks = jose.createRemoteJWKSet(new URL(issuer.jwksUri));
await time('jose jwtVerify', 5000, (i) =>
  jose.jwtVerify(tokens[i % 2000]!, jwks, { issuer: issuer.issuer, audience: AUDIENCE, typ: 'at+jwt' }),
);

// DPoP: the proof check alone (a fresh proof per request), portcullis (node:crypto, the key imported
// once per thumbprint) against jose (jwtVerify with EmbeddedJWK, plus the thumbprint).
const dpop = dpopClient();
const htu = 'https://api.bench.test/api/hello';
const bound = issuer.token(0, undefined, { cnf: { jkt: dpop.jkt } });
const proofs = dpop.proofs(20000, htu, bound);
let next = 0; // every call takes a new proof (a replayed one would be refused), warm-up included
const proofVerifier = createDpopProofVerifier({
  algorithms: new Set(['ES256']),
  iatWindow: 60,
  clockTolerance: 5,
  realm: 'api',
  nonces: undefined,
  replay: createDpopReplayCache(100_000),
});
await time('portcullis DPoP proof (ES256)', 8000, () =>
  proofVerifier.verify(
    proofs[next++]!,
    { method: 'GET', htu, accessToken: bound, jkt: dpop.jkt },
    Date.now(),
  ),
);
await time('jose DPoP proof (ES256, EmbeddedJWK)', 8000, async () => {
  const { protectedHeader } = await jose.jwtVerify(proofs[next++ % proofs.length]!, jose.EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: ['ES256'],
  });
  return jose.calculateJwkThumbprint(protectedHeader.jwk!);
});
issuer.close();
