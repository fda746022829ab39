/**
 * The README's "your own app" path: the demo's built-in IdP (demo-app/idp.ts, as `npm run demo` starts
 * it) accepts a newcomer's app with the clients it prints. examples/signin signs in as `my-app` at the
 * app URL the IdP was given (MY_APP_URL) and at its other loopback spelling; examples/service-to-service
 * calls examples/api as `my-service`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type DemoIdp, startDemoIdp } from '../../demo-app/idp.js';
import {
  describeYourClients,
  loopbackAliases,
  type YourClients,
  yourClients,
} from '../../demo-app/your-clients.js';
import { createApp as createApi } from '../../examples/api/app.js';
import { createWorker } from '../../examples/service-to-service/worker.js';
import { createApp as createSigninApp } from '../../examples/signin/app.js';
import { startApp } from '../helpers/app.js';
import { type Hop, TestBrowser } from '../helpers/browser.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

let idp: DemoIdp;
let yours: YourClients;
let appPort: number;

beforeAll(async () => {
  appPort = await freePort();
  // As `MY_APP_URL=http://localhost:<port> npm run demo` would.
  yours = yourClients({ MY_APP_URL: `http://localhost:${appPort}` });
  idp = await startDemoIdp({
    port: await freePort(),
    appBaseURL: 'http://localhost:3000',
    apiAudience: 'http://localhost:3000/api',
    webClient: { id: 'demo-web', secret: 'demo-web-secret' },
    workerClient: { id: 'demo-worker', secret: 'demo-worker-secret' },
    yours,
  });
});

afterAll(async () => {
  await idp?.close();
});

/** The demo IdP's own sign-in form (not oidc-provider's dev pages), then back to the app. */
async function signInAtDemoIdp(browser: TestBrowser, start: Hop, login: string, password: string) {
  const form = await browser.follow(start);
  expect(form.body).toContain('Sign in to the demo IdP');
  const action = /<form method="post" action="([^"]+)"/.exec(form.body)?.[1];
  const submitted = await browser.post(new URL(action!, form.url).href, { login, password });
  return browser.follow(submitted);
}

describe("the demo IdP's clients for your own app", () => {
  test('it prints what to configure', () => {
    const text = describeYourClients(yourClients({}), 'http://127.0.0.1:4000');
    expect(text).toContain('ISSUER_BASE_URL=http://127.0.0.1:4000');
    expect(text).toContain('CLIENT_ID=my-app CLIENT_SECRET=my-app-secret BASE_URL=http://localhost:3001');
    expect(text).toContain('redirect URI http://localhost:3001/callback (or http://127.0.0.1:3001/callback)');
    expect(text).toContain('SERVICE_CLIENT_ID=my-service SERVICE_CLIENT_SECRET=my-service-secret');
    expect(text).toContain('AUDIENCE=http://localhost:3001/api');
    expect(loopbackAliases('https://app.example.com')).toEqual(['https://app.example.com']);
  });

  test.each(['localhost', '127.0.0.1'])(
    'examples/signin signs in as my-app at http://%s:<port>',
    async (host) => {
      const baseURL = `http://${host}:${appPort}`;
      const app = await startApp(
        () =>
          createSigninApp({
            issuerBaseURL: idp.issuer,
            baseURL,
            clientID: yours.app.id,
            clientSecret: yours.app.secret,
            sessionSecret: 'demo-idp-test-session-secret',
          }),
        appPort,
      );
      try {
        const browser = new TestBrowser();
        const profile = await signInAtDemoIdp(
          browser,
          await browser.get(`${baseURL}/profile`),
          'alice',
          'wonderland',
        );
        expect(profile.url).toBe(`${baseURL}/profile`);
        expect(profile.status).toBe(200);
        expect(profile.body).toContain('Alice Liddell');
      } finally {
        await app.close();
      }
    },
  );

  test('an app at another URL is told, at the IdP, how to register it (MY_APP_URL)', async () => {
    const app = await startApp((baseURL) =>
      createSigninApp({
        issuerBaseURL: idp.issuer,
        baseURL,
        clientID: yours.app.id,
        clientSecret: yours.app.secret,
        sessionSecret: 'demo-idp-test-session-secret',
      }),
    );
    try {
      const browser = new TestBrowser();
      const refused = await browser.follow(await browser.get(`${app.baseURL}/login`));
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('invalid_redirect_uri');
      expect(refused.body).toContain(
        `with BASE_URL http://localhost:${appPort} or http://127.0.0.1:${appPort}. For another URL, restart it with MY_APP_URL`,
      );
    } finally {
      await app.close();
    }
  });

  test('examples/service-to-service calls examples/api as my-service', async () => {
    const api = await startApp(() =>
      createApi({ issuerBaseURL: idp.issuer, audience: yours.apiAudience, auditors: [yours.service.id] }),
    );
    const worker = createWorker({
      issuerBaseURL: idp.issuer,
      clientID: yours.service.id,
      clientSecret: yours.service.secret,
      resource: yours.apiAudience,
      apiURL: api.baseURL,
    });
    try {
      expect(await worker.createOrder('Winch')).toMatchObject({ item: 'Winch', by: 'my-service' });
      expect(await worker.listOrders()).toHaveLength(2);
    } finally {
      await worker.close();
      await api.close();
    }
  });
});
