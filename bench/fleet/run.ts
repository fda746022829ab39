/**
 * Load run for sign-in on a fleet: two app processes behind a round-robin proxy, sessions in a real
 * Redis, the in-process oidc-provider. Phase 1: complete logins. Phase 2: mixed traffic from the
 * signed-in users (pages, API-style 401 checks, refreshes) for a fixed time. Reports logins/s,
 * errors (must be 0), sessions lost (must be 0) and each process's heap after GC, before and after.
 *
 * Run: node --import tsx bench/fleet/run.ts [logins=2000] [seconds=60] [concurrency=16]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { signInAtIdp, TestBrowser } from '../../__tests__/helpers/browser.js';
import { WEB_SECRET } from '../../__tests__/helpers/idp.js';

const LOGINS = Number(process.argv[2] ?? 2000);
const SECONDS = Number(process.argv[3] ?? 60);
const CONCURRENCY = Number(process.argv[4] ?? 16);
console.warn = () => undefined;
console.info = () => undefined;

const listen = (s: Server) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

const ports: number[] = [];
let turn = 0;
const proxy = createServer((req, res) => {
  const port = ports[turn++ % ports.length]!;
  const upstream = request(
    { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.writeHead(502).end());
  req.pipe(upstream);
});
const baseURL = `http://127.0.0.1:${await listen(proxy)}`;
const idpProcess = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'idp.ts')], {
  env: { ...process.env, APP_BASE_URL: baseURL },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const issuer = await new Promise<string>((ok) =>
  idpProcess.stdout!.on('data', (d: Buffer) => {
    const m = /issuer (\S+)/.exec(d.toString());
    if (m) ok(m[1]!);
  }),
);
const prefix = `portcullis-bench:${randomBytes(4).toString('hex')}:`;
const children: ChildProcess[] = [];
for (let i = 0; i < 2; i++) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', resolve(import.meta.dirname, 'app.ts')],
    {
      env: {
        ...process.env,
        PREFIX: prefix,
        PORT: String(port),
        BASE_URL: baseURL,
        ISSUER: issuer,
        CLIENT_SECRET: WEB_SECRET,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((ok) =>
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && ok()),
  );
  children.push(child);
  ports.push(port);
}

async function heaps(): Promise<number[]> {
  return Promise.all(
    ports.map(
      async (port) =>
        ((await (await fetch(`http://127.0.0.1:${port}/heap`)).json()) as { heapUsed: number }).heapUsed,
    ),
  );
}

let errors = 0;
const kinds = new Map<string, number>();
function error(what: string, res: { status: number; body: string }): void {
  errors++;
  const key = `${what} ${res.status} ${res.body.slice(0, 80)}`;
  kinds.set(key, (kinds.get(key) ?? 0) + 1);
}
async function login(): Promise<TestBrowser> {
  const browser = new TestBrowser();
  const start = await browser.get(`${baseURL}/login`);
  const { result } = await signInAtIdp(browser, start.location!, {
    login: `u${randomBytes(3).toString('hex')}`,
  });
  if (result?.status !== 302) error('login', result ?? { status: 0, body: '' });
  return browser;
}

// Warm-up, then the baseline heap.
for (let i = 0; i < 50; i++) await login();
const heapBefore = await heaps();

// Phase 1: logins.
const users: TestBrowser[] = [];
let started = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (started++ < LOGINS) users.push(await login());
  }),
);
const loginSeconds = (performance.now() - t0) / 1000;

// Phase 2: mixed traffic for SECONDS.
let requests = 0;
let lost = 0;
const deadline = Date.now() + SECONDS * 1000;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async (_, worker) => {
    let i = worker;
    while (Date.now() < deadline) {
      const user = users[i++ % users.length]!;
      const roll = Math.random();
      requests++;
      if (roll < 0.6) {
        const res = await user.get(`${baseURL}/me`, { accept: 'application/json' });
        if (res.status !== 200) error('GET /me', res);
        else if (!JSON.parse(res.body).authenticated) lost++;
      } else if (roll < 0.9) {
        const res = await user.get(`${baseURL}/profile`, { accept: 'application/json' });
        if (res.status === 401) lost++;
        else if (res.status !== 200) error('GET /profile', res);
      } else {
        const res = await user.post(`${baseURL}/refresh`, {}, { accept: 'application/json' });
        if (res.status === 401) lost++;
        else if (res.status !== 200) error('POST /refresh', res);
      }
    }
  }),
);
const heapAfter = await heaps();

const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
console.log(
  `\n## Fleet load run: 2 processes, Redis sessions, round-robin proxy (concurrency ${CONCURRENCY})`,
);
console.log('| measure | value |\n| --- | --- |');
console.log(
  `| complete logins | ${LOGINS} in ${loginSeconds.toFixed(1)} s = ${(LOGINS / loginSeconds).toFixed(1)} logins/s |`,
);
console.log(
  `| mixed traffic | ${requests} requests in ${SECONDS} s = ${(requests / SECONDS).toFixed(0)} req/s |`,
);
console.log(`| errors | ${errors} |`);
console.log(`| sessions lost | ${lost} |`);
console.log(`| heap after GC, process 1 | ${mb(heapBefore[0]!)} → ${mb(heapAfter[0]!)} |`);
console.log(`| heap after GC, process 2 | ${mb(heapBefore[1]!)} → ${mb(heapAfter[1]!)} |`);

for (const [kind, count] of kinds) console.log(`error: ${count} × ${kind}`);
for (const child of children) child.kill('SIGTERM');
proxy.close();
proxy.closeAllConnections();
idpProcess.kill('SIGTERM');
process.exit(errors === 0 && lost === 0 ? 0 : 1);
