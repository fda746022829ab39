/**
 * `npm run demo` in one terminal (its built-in IdP issues tokens for http://localhost:3001/api), then
 * `npx tsx examples/node-http/server.ts`, and call http://localhost:3001/api/orders with a token.
 */
import { createServer } from 'node:http';
import { createHandler } from './app.js';

const env = process.env;
const port = Number(env.PORT ?? 3001);

const handler = createHandler({
  issuerBaseURL: env.ISSUER_BASE_URL ?? 'http://127.0.0.1:4000',
  audience: env.AUDIENCE ?? `http://localhost:${port}/api`,
});
createServer(handler).listen(port, () =>
  console.log(`node:http example: http://localhost:${port}/api/orders`),
);
