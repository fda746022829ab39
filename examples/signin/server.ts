/**
 * `npm run demo` in one terminal (its built-in IdP knows the client `my-app`), then
 * `npx tsx examples/signin/server.ts` and open http://localhost:3001/.
 */
import { createApp } from './app.js';

const env = process.env;
const port = Number(env.PORT ?? 3001);
const baseURL = env.BASE_URL ?? `http://localhost:${port}`;

createApp({
  issuerBaseURL: env.ISSUER_BASE_URL ?? 'http://127.0.0.1:4000',
  baseURL,
  clientID: env.CLIENT_ID ?? 'my-app',
  clientSecret: env.CLIENT_SECRET ?? 'my-app-secret',
  sessionSecret: env.SESSION_SECRET ?? 'a-long-random-string-for-development-only',
}).listen(port, (err) => {
  if (err) throw err; // the port is taken, most likely
  console.log(`sign-in example: open ${baseURL}/`);
});
