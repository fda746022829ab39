/**
 * One bench server, in its own process: `node --import tsx bench/bearer/server.ts <kind>`.
 * Every kind serves the same Express 5 route; only the auth in front of it differs.
 * Reads ISSUER, JWKS_URI, AUDIENCE (and DPOP_BASE_URL) from the environment; prints `listening <port>`.
 *
 * OpenTelemetry: this repository installs `@opentelemetry/api` (for its tests), so every kind runs with
 * the API present and no SDK registered, unless the runner hides it (`portcullis-absent`, started with
 * `bench/service/without-otel.ts`) or the kind registers the SDK (`portcullis-sdk`, exporting nowhere).
 * `portcullis-baseline` is bearer() of another commit (BENCH_BASELINE: its lib/index.ts), for a before
 * and after in the same run.
 */
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import { expressjwt } from 'express-jwt';
import { auth as auth0 } from 'express-oauth2-jwt-bearer';
import * as jose from 'jose';
import jwksRsa from 'jwks-rsa';
import { bearer as current } from '../../lib/index.js';

const kind = process.argv[2] ?? 'none';
// Imported only here: `portcullis-absent` runs where @opentelemetry/api cannot be found.
if (kind === 'portcullis-sdk') await (await import('../service/noop-sdk.js')).setUpNoopSdk();
const bearer: typeof current =
  kind === 'portcullis-baseline'
    ? ((await import(process.env.BENCH_BASELINE!)) as { bearer: typeof current }).bearer
    : current;
const issuer = process.env.ISSUER!;
const jwksUri = process.env.JWKS_URI!;
const audience = process.env.AUDIENCE!;

function rawJose(): RequestHandler {
  const jwks = jose.createRemoteJWKSet(new URL(jwksUri));
  return (req, res, next) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined) {
      res.status(401).end();
      return;
    }
    jose
      .jwtVerify(token, jwks, { issuer, audience, algorithms: ['RS256'], typ: 'at+jwt' })
      .then(({ payload }) => {
        (req as unknown as { auth: unknown }).auth = { payload };
        next();
      })
      .catch(() => res.status(401).end());
  };
}

const VERDICT = Object.freeze({ payload: Object.freeze({ sub: 'user-0' }) });

const middlewares: Record<string, () => RequestHandler> = {
  none: () => (_req, _res, next) => next(),
  // The floor of any auth middleware: setting req.auth, which in Express is a slow property add (each
  // request has a hidden class of its own), 2 to 6 µs of CPU by itself.
  'none-auth': () => (req, _res, next) => {
    (req as unknown as { auth: unknown }).auth = VERDICT;
    next();
  },
  jose: rawJose,
  'express-oauth2-jwt-bearer': () => auth0({ issuer, jwksUri, audience, tokenSigningAlg: 'RS256' }),
  'express-jwt': () =>
    expressjwt({
      secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true }) as never,
      algorithms: ['RS256'],
      audience,
      issuer,
    }),
  portcullis: () => bearer({ issuer, jwksUri, audience }) as RequestHandler,
  // The same, started with @opentelemetry/api hidden (as for an app that does not install it), or with
  // the OpenTelemetry SDK registered and exporting nowhere, or from another commit.
  'portcullis-absent': () => bearer({ issuer, jwksUri, audience }) as RequestHandler,
  'portcullis-sdk': () => bearer({ issuer, jwksUri, audience }) as RequestHandler,
  'portcullis-baseline': () => bearer({ issuer, jwksUri, audience }) as RequestHandler,
  // The cache of 1,000 entries that was the default until 2026-11-30: the 2,000-token mix is then past it.
  'portcullis-1000': () => bearer({ issuer, jwksUri, audience, cacheMaxEntries: 1000 }) as RequestHandler,
  // For finding where the time goes: the same without the verified-token cache.
  'portcullis-nocache': () => bearer({ issuer, jwksUri, audience, cacheMaxEntries: 0 }) as RequestHandler,
  // DPoP (RFC 9449): the same, with DPoP-bound tokens and a fresh proof on every request.
  'portcullis-dpop': () =>
    bearer({ issuer, jwksUri, audience, baseURL: process.env.DPOP_BASE_URL! }) as RequestHandler,
};

const make = middlewares[kind];
if (make === undefined) throw new Error(`unknown kind ${kind}`);
const app = express();
app.disable('x-powered-by');
// CPU spent and requests served, so that the runner can report CPU per request: a figure that
// other processes on a shared machine disturb far less than throughput.
let served = 0;
app.get('/stats', (_req, res) => {
  const { user, system } = process.cpuUsage();
  res.json({ cpu: user + system, served });
});
app.use('/api', make());
app.get('/api/hello', (_req, res) => {
  served++;
  res.json({ hello: 'world' });
});
app.use(((err, _req, res, _next) => {
  res.status((err as { status?: number }).status ?? 500).end();
}) as express.ErrorRequestHandler);
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
// Exit normally on SIGTERM so that `--cpu-prof` can write its profile.
process.on('SIGTERM', () => process.exit(0));
