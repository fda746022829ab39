/**
 * Two app processes behind a round-robin proxy of our own, sharing sessions in a real Redis: log in
 * on one and finish on the other, refresh on either, and when requests on both processes meet an
 * expiring access token at once, one refresh is made and the user stays signed in (with rotation,
 * a second use of the refresh token would make the IdP revoke the whole grant).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { TestBrowser } from '../helpers/browser.js';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';
import { connectRedis, uniquePrefix } from '../service/fixtures/redis.js';
import { loginAs } from './harness.js';

let idp: TestIdp;
let proxy: Server;
let baseURL: string;
const members: Array<{ child: ChildProcess; port: number }> = [];
const grants: string[] = [];
const refreshes = () => grants.filter((g) => g === 'refresh_token').length;

function listen(server: Server): Promise<number> {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)));
}

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  (await connectRedis()).destroy(); // a clear failure when no Redis answers
  idp = await startIdp();
  idp.provider.on('grant.success', (ctx) => grants.push(String(ctx.oidc.params?.['grant_type'])));
  // The proxy: round robin, or the backend named by x-backend.
  let turn = 0;
  proxy = createServer((req, res) => {
    const forced = req.headers['x-backend'];
    const member = members[forced === undefined ? turn++ % members.length : Number(forced)]!;
    const upstream = request(
      { host: '127.0.0.1', port: member.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  baseURL = `http://127.0.0.1:${await listen(proxy)}`;
  idp.allowApp(baseURL);
  const prefix = uniquePrefix();
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, '../../bench/fleet/app.ts')],
      {
        env: {
          ...process.env,
          PREFIX: prefix,
          PORT: String(port),
          BASE_URL: baseURL,
          ISSUER: idp.issuer,
          CLIENT_SECRET: WEB_SECRET,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((ready, fail) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && ready());
      child.once('exit', (code) => fail(new Error(`fleet member exited with ${code}`)));
    });
    members.push({ child, port });
  }
}, 60_000);

afterAll(async () => {
  for (const { child } of members) child.kill('SIGTERM');
  proxy?.close();
  proxy?.closeAllConnections();
  await idp?.close();
});

const me = async (browser: TestBrowser, backend: number) =>
  JSON.parse((await browser.get(`${baseURL}/me`, { 'x-backend': String(backend) })).body);

test('a login started on one process finishes on the other; both see the session', async () => {
  const browser = new TestBrowser();
  const { start, result } = await loginAs(browser, { baseURL } as never);
  expect(start.status).toBe(302);
  expect(result.status).toBe(302);
  const [a, b] = [await me(browser, 0), await me(browser, 1)];
  expect(a.authenticated && b.authenticated).toBe(true);
  expect(a.pid).not.toBe(b.pid);
});

test('a refresh on one process is seen by the other', async () => {
  const browser = new TestBrowser();
  await loginAs(browser, { baseURL } as never);
  const before = await me(browser, 0);
  await new Promise((r) => setTimeout(r, 1100));
  const refreshed = JSON.parse((await browser.post(`${baseURL}/refresh`, {}, { 'x-backend': '1' })).body);
  expect(refreshed.expires_at).toBeGreaterThan(before.expires_at);
  expect((await me(browser, 0)).expires_at).toBe(refreshed.expires_at);
});

test('requests on both processes that meet an expiring token at once make one refresh and keep the user signed in', async () => {
  idp.settings.accessTokenTTL = 3; // within autoRefresh's 5 s leeway: every request wants a refresh
  const browser = new TestBrowser();
  try {
    await loginAs(browser, { baseURL } as never);
  } finally {
    idp.settings.accessTokenTTL = 3600;
  }
  const before = refreshes();
  const answers = await Promise.all([0, 1, 0, 1, 0, 1].map((backend) => me(browser, backend)));
  expect(answers.every((a) => a.authenticated)).toBe(true);
  expect(new Set(answers.map((a) => a.pid)).size).toBe(2);
  expect(refreshes()).toBe(before + 1);
  // The grant is intact: the rotated refresh token still works, on either process.
  const again = await browser.post(`${baseURL}/refresh`, {}, { 'x-backend': '0' });
  expect(again.status).toBe(200);
  expect((await me(browser, 1)).authenticated).toBe(true);
});
