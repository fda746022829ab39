/**
 * `auth()`'s own work on a signed-in request, without HTTP or express-session: the middleware called
 * on a request-like object holding a session as the store hands it over (parsed afresh each time, as
 * express-session does), with and without reading `req.oidc.user`. The harness's own cost (the
 * parse, the promise) is timed alone and taken off.
 */
import type { RequestHandler } from 'express';

export interface MiddlewareTimes {
  /** ns per signed-in request: the middleware up to `next()`. */
  middlewareNs: number;
  /** ns per signed-in request that also reads `req.oidc.user` once. */
  withUserNs: number;
}

type Visit = (req: Record<string, unknown>) => void;

function timer(sessionJson: string, middleware: RequestHandler | undefined, visit: Visit) {
  const res = { setHeader() {}, getHeader() {}, headersSent: false };
  const once = () => {
    const req: Record<string, unknown> = {
      url: '/bare',
      method: 'GET',
      headers: {},
      session: JSON.parse(sessionJson),
      sessionStore: {},
    };
    return new Promise<void>((resolve, reject) => {
      const next = (err?: unknown) => {
        if (err) reject(err);
        visit(req);
        resolve();
      };
      if (middleware === undefined) next();
      else middleware(req as never, res as never, next);
    });
  };
  return async (n: number) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await once();
    return Number(process.hrtime.bigint() - started) / n;
  };
}

/** Median over `rounds` of (middleware − harness), ns, interleaved round by round. */
export async function timeMiddleware(
  middleware: RequestHandler,
  sessionJson: string,
  rounds = 9,
  perRound = 20_000,
): Promise<MiddlewareTimes> {
  const nothing: Visit = () => undefined;
  const readUser: Visit = (req) => {
    if ((req.oidc as { user?: { sub?: unknown } }).user?.sub === undefined) throw new Error('signed out');
  };
  const timers = {
    harness: timer(sessionJson, undefined, nothing),
    middleware: timer(sessionJson, middleware, nothing),
    withUser: timer(sessionJson, middleware, readUser),
  };
  for (const time of Object.values(timers)) await time(perRound); // JIT
  const samples: Record<keyof typeof timers, number[]> = { harness: [], middleware: [], withUser: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, time] of Object.entries(timers))
      samples[name as keyof typeof timers].push(await time(perRound));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const added = (xs: number[]) => median(xs.map((v, r) => v - samples.harness[r]!));
  return { middlewareNs: added(samples.middleware), withUserNs: added(samples.withUser) };
}
