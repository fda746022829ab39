/**
 * A fleet member: sessions in Redis (connect-redis, guarded), auth() with the Redis refresh lock,
 * /heap after GC. The load run and the fleet test both start two of these behind a proxy.
 */
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { topologyClient } from '../../__tests__/helpers/redis-topology.js';
import { auth, guardSessionStore, redisTokenCache, requiresAuth } from '../../lib/index.js';

const env = process.env;
// One server, a Redis Cluster or a Sentinel set, as PORTCULLIS_TEST_REDIS says (inherited).
const redis = topologyClient(env, { disableOfflineQueue: true });
redis.on('error', () => undefined);
await redis.connect();

const app = express();
app.use(
  session({
    secret: 'bench-fleet-secret',
    resave: false,
    saveUninitialized: false,
    store: guardSessionStore(new RedisStore({ client: redis, prefix: `${env['PREFIX']}sess:` })),
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
    refreshLock: redisTokenCache(redis, { prefix: `${env['PREFIX']}lock:` }),
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
  res.json({ heapUsed: process.memoryUsage().heapUsed });
});
app.use(
  (
    err: { status?: number; code?: string },
    _req: express.Request,
    res: express.Response,
    _next: express.NextFunction,
  ) => {
    res.status(err.status ?? 500).json({ code: err.code });
  },
);
const server = app.listen(Number(env['PORT']), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void redis.close().finally(() => process.exit(0));
});
