/**
 * The worker, once: list the orders (axios), place one (fetch), list again, then exit.
 * `npm run demo` in one terminal (its built-in IdP knows the client `my-service`), then
 * `npx tsx examples/service-to-service/server.ts`. It calls the API at API_URL; without API_URL it
 * first starts examples/api in this process, on PORT.
 */
import type { Server } from 'node:http';
import { createApp as createApi } from '../api/app.js';
import { createWorker } from './worker.js';

const env = process.env;
const issuerBaseURL = env.ISSUER_BASE_URL ?? 'http://127.0.0.1:4000';
const clientID = env.SERVICE_CLIENT_ID ?? 'my-service';
const port = Number(env.PORT ?? 3001);
const resource = env.SERVICE_RESOURCE ?? `http://localhost:${port}/api`;

let api: Server | undefined;
if (env.API_URL === undefined) {
  const app = createApi({ issuerBaseURL, audience: resource, auditors: [clientID] });
  api = await new Promise<Server>((resolve, reject) => {
    const server = app.listen(port, (err) => (err ? reject(err) : resolve(server)));
  });
}

const worker = createWorker({
  issuerBaseURL,
  clientID,
  clientSecret: env.SERVICE_CLIENT_SECRET ?? 'my-service-secret',
  resource,
  apiURL: env.API_URL ?? `http://localhost:${port}`,
});
try {
  console.log('orders (axios):', await worker.listOrders());
  console.log('placed (fetch):', await worker.createOrder('Drawbridge chain'));
  console.log('orders (axios):', await worker.listOrders());
} finally {
  await worker.close();
  api?.close();
}
