/**
 * `npm run demo` in one terminal, a Redis at REDIS_URL, then one process per terminal:
 *   npx tsx examples/fleet/server.ts
 *   PORT=3002 BASE_URL=http://localhost:3001 npx tsx examples/fleet/server.ts
 * Log in at http://localhost:3001/profile, then open http://localhost:3002/profile: same session.
 */
import { createClient } from 'redis';
import { createApp } from './app.js';

const env = process.env;
const port = Number(env.PORT ?? 3001);
const baseURL = env.BASE_URL ?? `http://localhost:${port}`;

// disableOfflineQueue: while Redis is away, commands fail at once instead of queueing.
const redis = await createClient({
  url: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  disableOfflineQueue: true,
})
  .on('error', (err: Error) => console.error('redis:', err.message))
  .connect();

const server = createApp({
  redis,
  issuerBaseURL: env.ISSUER_BASE_URL ?? 'http://127.0.0.1:4000',
  baseURL,
  clientID: env.CLIENT_ID ?? 'my-app',
  clientSecret: env.CLIENT_SECRET ?? 'my-app-secret',
  sessionSecret: env.SESSION_SECRET ?? 'a-long-random-string-for-development-only',
  service: {
    clientID: env.SERVICE_CLIENT_ID ?? 'my-service',
    clientSecret: env.SERVICE_CLIENT_SECRET ?? 'my-service-secret',
  },
  apiAudience: env.AUDIENCE ?? `${baseURL}/api`,
  dpop: env.DPOP === 'true',
}).listen(port, (err) => {
  if (err) throw err; // the port is taken, most likely
  console.log(`fleet example on port ${port}: open ${baseURL}/profile`);
});

process.on('SIGINT', () => {
  server.close();
  void redis.quit();
});
