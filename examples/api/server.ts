/**
 * `npm run demo` in one terminal (its built-in IdP issues tokens for http://localhost:3001/api), then
 * `npx tsx examples/api/server.ts`, and call http://localhost:3001/api/orders with a token.
 */
import { createApp } from './app.js';

const env = process.env;
const port = Number(env.PORT ?? 3001);

createApp({
  issuerBaseURL: env.ISSUER_BASE_URL ?? 'http://127.0.0.1:4000',
  audience: env.AUDIENCE ?? `http://localhost:${port}/api`,
  auditors: (env.AUDITORS ?? 'my-service').split(','),
  logger: console,
}).listen(port, (err) => {
  if (err) throw err; // the port is taken, most likely
  console.log(`API example: http://localhost:${port}/api/orders`);
});
