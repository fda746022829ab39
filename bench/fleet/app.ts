/**
 * A fleet member: sessions in Redis (connect-redis, guarded), auth() with the Redis refresh lock
 * and back-channel logout (its index of sessions in Redis), /heap after GC; with AUDIENCE set, also an API (bearer() with DPoP and the Redis replay store) and
 * a service agent on the Redis token cache (/call; /call?fresh=1 with a new agent each time, as a
 * process that just started). The load run and the fleet test both start two of these behind a proxy.
 *
 * The Redis is the one PORTCULLIS_TEST_REDIS describes (one server, a cluster or a Sentinel set),
 * with the client settings docs/fleet.md recommends.
 */
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { topologyClient } from '../../__tests__/helpers/redis-topology.js';
import {
  auth,
  bearer,
  guardSessionStore,
  redisDpopReplayStore,
  redisTokenCache,
  requiresAuth,
  type ServiceAgent,
  serviceAgent,
} from '../../lib/index.js';

const env = process.env;
const prefix = env['PREFIX'] ?? 'portcullis-bench:';
const redis = topologyClient(env, { disableOfflineQueue: true });
redis.on('error', () => undefined);
await redis.connect();
/** What the run counts: the replay store's decisions without Redis, by its own log. */
const counts = { replayStoreWarnings: 0 };

const app = express();
app.use(
  session({
    secret: 'bench-fleet-secret',
    resave: false,
    saveUninitialized: false,
    store: guardSessionStore(new RedisStore({ client: redis, prefix: `${prefix}sess:` }), {
      timeout: Number(env['SESSION_TIMEOUT_MS'] ?? 2000),
    }),
  }),
);
app.use(
  auth({
    issuerBaseURL: env['ISSUER']!,
    baseURL: env['BASE_URL']!,
    clientID: 'web',
    clientSecret: env['CLIENT_SECRET']!,
    authorizationParams: { scope: 'openid email offline_access' },
    autoRefresh: true,
    refreshLock: redisTokenCache(redis, { prefix: `${prefix}lock:` }),
    // The index of sessions by sid and sub, in Redis too: the run measures what it costs.
    backchannelLogout: true,
  }),
);
app.get('/me', (req, res) => {
  res.json({
    pid: process.pid,
    authenticated: req.oidc.isAuthenticated(),
    expires_at: req.oidc.accessToken?.expires_at,
  });
});
app.get('/profile', requiresAuth(), (req, res) => {
  res.json({ sub: req.oidc.user?.['sub'] });
});
app.post('/refresh', requiresAuth(), async (req, res, next) => {
  try {
    const token = await req.oidc.refresh();
    res.json({ pid: process.pid, expires_at: token?.expires_at });
  } catch (err) {
    next(err);
  }
});
app.get('/heap', (_req, res) => {
  (globalThis as { gc?: () => void }).gc?.();
  res.json({ heapUsed: process.memoryUsage().heapUsed, ...counts });
});

const audience = env['AUDIENCE'];
if (audience !== undefined) {
  app.use(
    '/api',
    bearer({
      issuerBaseURL: env['ISSUER']!,
      audience,
      baseURL: env['BASE_URL']!,
      dpop: {
        replayStore: redisDpopReplayStore(redis, {
          prefix: `${prefix}dpop-jti:`,
          onError: () => counts.replayStoreWarnings++,
        }),
      },
    }),
  );
  app.get('/api/ping', (req, res) => {
    res.json({ pid: process.pid, sub: req.auth?.payload.sub });
  });
  const agentFor = (): ServiceAgent =>
    serviceAgent({
      issuerBaseURL: env['ISSUER']!,
      clientID: 'service',
      clientSecret: env['SERVICE_SECRET']!,
      audience,
      cache: redisTokenCache(redis, { prefix: `${prefix}token:` }),
      logger: { warn: () => undefined },
    });
  const agent = agentFor();
  const self = `http://127.0.0.1:${env['PORT']}/api/ping`;
  app.get('/call', async (req, res, next) => {
    const caller = req.query['fresh'] === undefined ? agent : agentFor();
    try {
      const answer = await caller.fetch(self);
      res.status(answer.status).json(await answer.json());
    } catch (err) {
      next(err);
    } finally {
      if (caller !== agent) await caller.close();
    }
  });
}
app.use(
  (
    err: { status?: number; code?: string },
    _req: express.Request,
    res: express.Response,
    next: express.NextFunction,
  ) => {
    // A store failing as the session is saved after the answer began: Express ends the response.
    if (res.headersSent) return next(err);
    res.status(err.status ?? 500).json({ code: err.code });
  },
);
const server = app.listen(Number(env['PORT']), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void redis.close().finally(() => process.exit(0));
});
