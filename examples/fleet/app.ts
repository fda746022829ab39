/**
 * Sign-in, an API and a worker in one app, for a fleet: run as many copies as you like behind a load
 * balancer, all on one Redis. What each product needs shared:
 * - sessions, in Redis (connect-redis): a login made at one process is honoured by all;
 * - sign-in's refresh lock (`refreshLock`): one process refreshes a session's tokens while the others
 *   wait; two refreshes with one rotating refresh token would make the IdP revoke the whole grant;
 * - the worker's token cache (`redisTokenCache`): the fleet asks the IdP once per token lifetime;
 * - the API's DPoP replay store (`redisDpopReplayStore`): a proof used at one process is refused by all.
 */
import { RedisStore } from 'connect-redis';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import {
  auth,
  bearer,
  guardSessionStore,
  redisDpopReplayStore,
  redisTokenCache,
  requireScope,
  requiresAuth,
  serviceAgent,
  throttleTouch,
} from 'portcullis';
import type { createClient } from 'redis';

export type Redis = ReturnType<typeof createClient>;

export interface FleetExampleOptions {
  /** A connected `redis` client; the app never closes it. */
  redis: Redis;
  issuerBaseURL: string;
  /** The fleet's public URL (the load balancer's), the same in every process. */
  baseURL: string;
  clientID: string;
  clientSecret: string;
  /** The same in every process, or one process cannot read another's session cookie. */
  sessionSecret: string;
  service: { clientID: string; clientSecret: string };
  /** The API's identifier (it is served here, under /api): users and the worker ask for it. */
  apiAudience: string;
  /** DPoP-bound tokens (RFC 9449) for users and the worker; the API takes DPoP and Bearer alike. */
  dpop: boolean;
  /** Prepended to every Redis key of this app. */
  prefix?: string;
}

export function createApp(options: FleetExampleOptions): express.Express {
  const { redis, baseURL, apiAudience, dpop } = options;
  const prefix = options.prefix ?? 'fleet-example:';
  // Tokens for the worker and locks for sign-in's refreshes: one Redis-backed cache serves both.
  const tokens = redisTokenCache(redis, { prefix: `${prefix}token:` });
  const app = express();

  // The API. baseURL turns DPoP on: each proof is checked against the public URL, never the Host header.
  app.use(
    '/api',
    bearer({
      issuerBaseURL: options.issuerBaseURL,
      audience: apiAudience,
      baseURL,
      dpop: { replayStore: redisDpopReplayStore(redis, { prefix: `${prefix}dpop:` }) },
    }),
  );
  app.get('/api/orders', requireScope('orders:read'), (req, res) => {
    res.json({ orders: [{ id: 1, item: 'Portcullis (oak, 3 m)' }], caller: req.auth?.payload.sub });
  });

  // Sign-in. guardSessionStore: while Redis is down, users get a 503 "try again", not a hung request.
  // throttleTouch: a session's TTL is renewed once a minute per process, not by an EXPIRE per request.
  app.use(
    session({
      store: throttleTouch(guardSessionStore(new RedisStore({ client: redis, prefix: `${prefix}sess:` }))),
      secret: options.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: baseURL.startsWith('https:') },
    }),
  );
  app.use(
    auth({
      issuerBaseURL: options.issuerBaseURL,
      baseURL,
      clientID: options.clientID,
      clientSecret: options.clientSecret,
      dpop,
      autoRefresh: true,
      refreshLock: tokens,
      authorizationParams: {
        scope: 'openid profile email offline_access orders:read',
        resource: apiAudience,
      },
    }),
  );
  app.get('/profile', requiresAuth(), async (req, res) => {
    // The user's token, refreshed if it has expired; with DPoP, a fresh proof signed by the session's key.
    const answer = await req.oidc.fetch(`${baseURL}/api/orders`);
    const token_type = req.oidc.accessToken?.token_type;
    res.json({ user: req.oidc.user, token_type, api: { status: answer.status, body: await answer.json() } });
  });

  // The worker (a route here only to show it: yours would run on a timer or a queue).
  const worker = serviceAgent({
    issuerBaseURL: options.issuerBaseURL,
    clientID: options.service.clientID,
    clientSecret: options.service.clientSecret,
    resource: apiAudience,
    scope: 'orders:read',
    dpop, // each process has its own key, so bound tokens are per process unless SERVICE_DPOP_KEY is shared
    cache: tokens,
  });
  app.get('/worker', async (_req, res) => {
    const answer = await worker.fetch(`${baseURL}/api/orders`);
    res.status(answer.status).json(await answer.json());
  });

  app.use(jsonErrors);
  return app;
}

/** portcullis errors carry a stable `code` and an HTTP `status` (503 ERR_SESSION_STORE while Redis is down). */
function jsonErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
  } else if (err instanceof Error && 'code' in err && 'status' in err && typeof err.status === 'number') {
    res.status(err.status).json({ code: err.code, message: err.message });
  } else {
    console.error(err);
    res.status(500).json({ code: 'ERR_UNEXPECTED', message: 'unexpected error' });
  }
}
