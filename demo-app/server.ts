/**
 * `npm run demo`: the demo app on PORT (default 3000) and, unless ISSUER_BASE_URL is set, two built-in
 * IdPs: the demo's own on IDP_PORT (default 4000) and Partner Co.'s on PARTNER_IDP_PORT (default
 * IDP_PORT + 1), so that the app signs users in from both and its API accepts both IdPs' tokens. The
 * app is served at http://localhost:PORT and the IdPs at http://127.0.0.1: different sites, so that
 * form_post really is a cross-site POST. Ctrl-C stops everything it started.
 */
// First: it silences oidc-provider's start-up lines before idp.ts imports oidc-provider.
import './quiet-provider.js';
import type { Server } from 'node:http';
import type session from 'express-session';
import { type DpopReplayStore, guardSessionStore, redisDpopReplayStore, throttleTouch } from 'portcullis';
import { createDemoApp } from './app.js';
import { type DemoIdp, startDemoIdp } from './idp.js';
import { startTelemetry } from './telemetry.js';
import { describeYourClients, yourClients } from './your-clients.js';

const env = process.env;
// Before the products are created, as an app registers its OpenTelemetry SDK: OTEL=console.
const telemetry = await startTelemetry(env['OTEL']);
const port = Number(env['PORT'] ?? 3000);
const baseURL = (env['BASE_URL'] ?? `http://localhost:${port}`).replace(/\/$/, '');
const apiAudience = env['AUDIENCE'] ?? `${baseURL}/api`;
const responseMode = env['RESPONSE_MODE'] === 'form_post' ? 'form_post' : 'query';
const dpop = env['DPOP'] !== 'false';
const webClient = {
  id: env['CLIENT_ID'] ?? 'demo-web',
  secret: env['CLIENT_SECRET'] ?? 'demo-web-secret-change-me',
};
const workerClient = {
  id: env['WORKER_CLIENT_ID'] ?? 'demo-worker',
  secret: env['WORKER_CLIENT_SECRET'] ?? 'demo-worker-secret-change-me',
};
/** The app's client at Partner Co.'s built-in IdP. */
const partnerClient = { id: 'demo-partner-web', secret: 'demo-partner-web-secret-change-me' };

// Clients for a newcomer's own app (MY_APP_URL, default http://localhost:3001), printed at start.
const yours = yourClients(env);

let idp: DemoIdp | undefined;
let partnerIdp: DemoIdp | undefined;
let issuer = env['ISSUER_BASE_URL'];
if (issuer === undefined || issuer === '') {
  const idpPort = Number(env['IDP_PORT'] ?? 4000);
  // Two providers, `main` and `partner`: each IdP sends users back to its own callback path.
  idp = await startDemoIdp({
    port: idpPort,
    appBaseURL: baseURL,
    apiAudience,
    webClient,
    workerClient,
    yours,
    callbackPath: '/callback/main',
  });
  partnerIdp = await startDemoIdp({
    realm: 'partner',
    port: Number(env['PARTNER_IDP_PORT'] ?? idpPort + 1),
    appBaseURL: baseURL,
    apiAudience,
    webClient: partnerClient,
    callbackPath: '/callback/partner',
  });
  issuer = idp.issuer;
}

let sessionStore: session.Store | undefined;
let dpopReplayStore: DpopReplayStore | undefined;
let redis: { quit(): Promise<unknown> } | undefined;
if (env['REDIS_URL']) {
  const { createClient } = await import('redis');
  const { RedisStore } = await import('connect-redis');
  // Fail fast while Redis is away (no offline queue), and answer 503 rather than hang (guardSessionStore);
  // renew a session's TTL once a minute, not on every request (throttleTouch).
  const client = createClient({ url: env['REDIS_URL'], disableOfflineQueue: true });
  client.on('error', (err: Error) => console.error('redis:', err.message));
  await client.connect();
  redis = client;
  sessionStore = throttleTouch(guardSessionStore(new RedisStore({ client, prefix: 'portcullis-demo:' })));
  dpopReplayStore = redisDpopReplayStore(client, { prefix: 'portcullis-demo:dpop-jti:' });
}

const app = createDemoApp({
  baseURL,
  issuer,
  ...(partnerIdp === undefined ? {} : { partner: { issuer: partnerIdp.issuer, client: partnerClient } }),
  webClient,
  workerClient,
  apiAudience,
  responseMode,
  dpop,
  sessionStore,
  dpopReplayStore,
  sessionSecret: env['SESSION_SECRET'] ?? 'demo-session-secret-change-me',
  telemetry,
});
const server: Server = app.listen(port, () => {
  console.log(`portcullis demo: open ${baseURL}/  (response_mode=${responseMode})`);
  if (idp !== undefined) {
    console.log(`built-in IdP:    ${idp.issuer}/.well-known/openid-configuration`);
    if (partnerIdp !== undefined) {
      console.log(`partner IdP:     ${partnerIdp.issuer}/.well-known/openid-configuration`);
      console.log('partner user:    carol / partnership (orders:read)');
    }
    console.log(
      'demo users:      alice / wonderland (orders:read, orders:write)   bob / builder (orders:read)',
    );
  }
  console.log(`sessions:        ${sessionStore === undefined ? 'in memory' : 'Redis'}`);
  if (telemetry !== undefined)
    console.log(`OpenTelemetry:   ${telemetry.description} (${baseURL}/debug/metrics)`);
  if (idp !== undefined) console.log(`\n${describeYourClients(yours, idp.issuer)}`);
});

async function stop(): Promise<void> {
  server.close();
  server.closeAllConnections();
  await idp?.close();
  await partnerIdp?.close();
  await redis?.quit();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
