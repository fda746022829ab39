/**
 * examples/fleet: two instances of the app on one Redis, behind one public URL, against the test IdP.
 * A session made at one is honoured by the other (and its logout by both); the worker's token is
 * fetched once for the fleet; with DPoP, a user's bound token works from either instance.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createClient } from 'redis';
import { createApp, type FleetExampleOptions, type Redis } from '../../examples/fleet/app.js';
import { type RunningApp, startApp } from '../helpers/app.js';
import { signInAtIdp, TestBrowser } from '../helpers/browser.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `fleet-example-test:${randomBytes(4).toString('hex')}:`;

let idp: TestIdp;
const grants: string[] = [];
const clients: Redis[] = [];
const running: RunningApp[] = [];

async function connect(): Promise<Redis> {
  const client = createClient({ url: REDIS_URL, disableOfflineQueue: true });
  client.on('error', () => undefined); // reconnect noise; a missing Redis fails connect() below
  await client.connect().catch((err: Error) => {
    throw new Error(`examples/fleet needs a Redis at ${REDIS_URL} (set REDIS_URL): ${err.message}`);
  });
  clients.push(client);
  return client;
}

/** Two instances, each with its own Redis client, serving one public URL: the first one's. */
async function fleet(dpop: boolean): Promise<[RunningApp, RunningApp]> {
  const options = async (baseURL: string): Promise<FleetExampleOptions> => ({
    redis: await connect(),
    issuerBaseURL: idp.issuer,
    baseURL,
    clientID: 'web',
    clientSecret: WEB_SECRET,
    sessionSecret: 'fleet-example-test-secret',
    service: { clientID: 'service', clientSecret: SERVICE_SECRET },
    apiAudience: API_AUDIENCE,
    dpop,
    prefix: `${prefix}${dpop}:`,
  });
  const first = await startApp(async (baseURL) => {
    idp.allowApp(baseURL);
    return createApp(await options(baseURL));
  });
  const second = await startApp(async () => createApp(await options(first.baseURL)));
  running.push(first, second);
  return [first, second];
}

/** Log in through `at`'s /profile; the IdP returns to the public URL (the first instance). */
async function logIn(browser: TestBrowser, at: RunningApp): Promise<void> {
  const start = await browser.get(`${at.baseURL}/profile`);
  const { result } = await signInAtIdp(browser, start.location!, { login: 'alice' });
  expect(result?.status).toBe(302);
}

async function profile(browser: TestBrowser, at: RunningApp) {
  const res = await browser.get(`${at.baseURL}/profile`, { accept: 'application/json' });
  return { status: res.status, body: res.status === 200 ? JSON.parse(res.body) : res.body };
}

beforeAll(async () => {
  idp = await startIdp();
  idp.provider.on('grant.success', (ctx) => grants.push(String(ctx.oidc.params?.['grant_type'])));
});

afterAll(async () => {
  await Promise.all(running.map((app) => app.close()));
  const [redis] = clients;
  for await (const keys of redis?.scanIterator({ MATCH: `${prefix}*` }) ?? []) {
    if (keys.length > 0) await redis!.del(keys);
  }
  await Promise.all(clients.map((client) => client.quit()));
  await idp?.close();
});

describe('examples/fleet', () => {
  test('a session made at one instance is honoured by the other, and so is its logout', async () => {
    const [a, b] = await fleet(false);
    const browser = new TestBrowser();
    await logIn(browser, b);

    for (const at of [a, b]) {
      const seen = await profile(browser, at);
      expect(seen.status).toBe(200);
      expect(seen.body).toMatchObject({
        user: { sub: 'alice' },
        api: { status: 200, body: { caller: 'alice' } },
      });
    }

    const logout = await browser.post(`${b.baseURL}/logout`, {});
    expect(logout.status).toBe(302);
    expect((await profile(browser, a)).status).toBe(401);
  });

  test("the fleet's worker asks the IdP for one token, shared through Redis", async () => {
    const [a, b] = await fleet(false);
    grants.length = 0;
    for (const at of [a, b, a, b]) {
      const res = await fetch(`${at.baseURL}/worker`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ caller: 'service' });
    }
    expect(grants).toEqual(['client_credentials']);
  });

  test('with DPoP, the user’s bound token works from either instance, and so does the worker', async () => {
    const [a, b] = await fleet(true);
    const browser = new TestBrowser();
    await logIn(browser, a);
    for (const at of [b, a]) {
      const seen = await profile(browser, at);
      expect(seen.body).toMatchObject({
        token_type: 'DPoP',
        api: { status: 200, body: { caller: 'alice' } },
      });
      expect((await fetch(`${at.baseURL}/worker`)).status).toBe(200);
    }
  });
});
