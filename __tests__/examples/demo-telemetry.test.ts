/**
 * The demo's OpenTelemetry (demo-app/telemetry.ts): `OTEL=console` prints spans and fills the
 * /debug/metrics page; without `OTEL` the page says how to turn it on and the demo starts no session
 * for it. The worker's run is the flow: a client-credentials token request, then the API call.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createDemoApp } from '../../demo-app/app.js';
import { type DemoIdp, startDemoIdp } from '../../demo-app/idp.js';
import { type DemoTelemetry, startTelemetry } from '../../demo-app/telemetry.js';
import { type RunningApp, startApp } from '../helpers/app.js';
import { TestBrowser } from '../helpers/browser.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const printed: unknown[] = [];
let idp: DemoIdp;
let telemetry: DemoTelemetry | undefined;
const apps: Record<'on' | 'off', RunningApp | undefined> = { on: undefined, off: undefined };
const webClient = { id: 'demo-web', secret: 'demo-web-secret' };
const workerClient = { id: 'demo-worker', secret: 'demo-worker-secret' };

beforeAll(async () => {
  // ConsoleSpanExporter prints each span with console.dir: kept here instead of on the test's output.
  jest.spyOn(console, 'dir').mockImplementation((span) => void printed.push(span));
  const appPort = await freePort();
  const baseURL = `http://127.0.0.1:${appPort}`;
  idp = await startDemoIdp({
    port: await freePort(),
    appBaseURL: baseURL,
    apiAudience: `${baseURL}/api`,
    webClient,
    workerClient,
  });
  telemetry = await startTelemetry('console');
  const demo = (withTelemetry: boolean) => (url: string) =>
    createDemoApp({
      baseURL: url,
      issuer: idp.issuer,
      webClient,
      workerClient,
      apiAudience: `${url}/api`,
      responseMode: 'query',
      dpop: true,
      sessionSecret: 'demo-telemetry-test-secret',
      telemetry: withTelemetry ? telemetry : undefined,
    });
  apps.on = await startApp(demo(true), appPort);
  apps.off = await startApp(demo(false));
});

afterAll(async () => {
  await apps.on?.close();
  await apps.off?.close();
  await idp?.close();
  jest.restoreAllMocks();
});

/** Run the demo's worker as the home page's button does (a POST with the CSRF token). */
async function runWorker(browser: TestBrowser, baseURL: string): Promise<number> {
  const home = await browser.get(`${baseURL}/`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1];
  return (await browser.post(`${baseURL}/worker/run`, { _csrf: csrf! })).status;
}

describe('OTEL=console', () => {
  test('prints the spans of the IdP calls, and /debug/metrics shows the token request and the lookups', async () => {
    const browser = new TestBrowser();
    expect(await runWorker(browser, apps.on!.baseURL)).toBe(200);
    const names = printed.map((span) => (span as { name: string }).name);
    expect(names).toEqual(expect.arrayContaining(['GET', 'POST']));
    const tokenCall = printed.find(
      (span) =>
        (span as { attributes: Record<string, unknown> }).attributes['url.full'] === `${idp.issuer}/token`,
    ) as { attributes: Record<string, unknown>; instrumentationScope: { name: string } };
    expect(tokenCall.instrumentationScope.name).toBe('portcullis');
    expect(tokenCall.attributes['http.response.status_code']).toBe(200);

    const page = await browser.get(`${apps.on!.baseURL}/debug/metrics`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<code>portcullis.agent.token.requests</code>');
    expect(page.body).toContain('portcullis.grant_type=client_credentials');
    expect(page.body).toContain('<code>portcullis.agent.cache.lookups</code>');
    expect(page.body).toContain('<code>http.client.request.duration</code>');
    // Names and codes only: no secret of the worker's reaches the page.
    expect(page.body).not.toContain(workerClient.secret);
  });

  test('an OTEL value the demo does not know leaves telemetry off, and says so', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(await startTelemetry('jaeger')).toBeUndefined();
    expect(warn).toHaveBeenCalledWith('OTEL=jaeger: the demo knows OTEL=console only; telemetry stays off');
    expect(await startTelemetry(undefined)).toBeUndefined();
  });
});

describe('without OTEL', () => {
  test('/debug/metrics says how to turn the metrics on, and starts no session', async () => {
    const page = await new TestBrowser().get(`${apps.off!.baseURL}/debug/metrics`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="metrics-off"');
    expect(page.body).toContain('OTEL=console npm run demo');
    expect(page.setCookies).toEqual([]);
  });
});
