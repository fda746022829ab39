/**
 * Load run for a fleet: two app processes behind a round-robin proxy, sessions and every other
 * Redis-backed part on a real Redis (one server, a 3+3 Redis Cluster or a Sentinel set, each of our
 * own but the single one), the in-process oidc-provider in a process of its own. Phase 1: complete
 * logins. Phase 2: mixed traffic for a fixed time (pages, refreshes, new sign-ins, DPoP-bound API
 * calls and replays of their proofs, service-agent calls). With --failover, a master is killed a
 * third of the way in (on a cluster, the one holding the agents' token). Then every user is checked,
 * and the Redis memory of each kind of key measured.
 *
 * Run: node --import tsx bench/fleet/run.ts [logins=2000] [seconds=60] [concurrency=16]
 *        [--topology single|cluster|sentinel] [--failover]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { TestBrowser } from '../../__tests__/helpers/browser.js';
import { API_AUDIENCE, SERVICE_SECRET, WEB_SECRET } from '../../__tests__/helpers/idp.js';
import {
  deleteKeys,
  keysMatching,
  type OwnTopology,
  startOwnTopology,
  topologyClient,
} from '../../__tests__/helpers/redis-topology.js';
import { dpopCaller } from './dpop.js';
import { memoryByKind } from './memory.js';
import { report } from './report.js';
import { Traffic, type User } from './traffic.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => args[args.indexOf(`--${name}`) + 1];
const [LOGINS = 2000, SECONDS = 60, CONCURRENCY = 16] = args.filter((a) => /^\d+$/.test(a)).map(Number);
const TOPOLOGY = flag('topology') ? option('topology')! : 'single';
const FAILOVER = flag('failover');
if (!['single', 'cluster', 'sentinel'].includes(TOPOLOGY) || (FAILOVER && TOPOLOGY === 'single')) {
  throw new Error('--topology single|cluster|sentinel; --failover needs cluster or sentinel');
}
console.warn = () => undefined;
console.info = () => undefined;
const progress = (what: string) =>
  process.stderr.write(`[fleet ${new Date().toISOString().slice(11, 19)}] ${what}\n`);

const own: OwnTopology | undefined =
  TOPOLOGY === 'single' ? undefined : await startOwnTopology(TOPOLOGY as 'cluster' | 'sentinel');
progress(`Redis: ${TOPOLOGY}`);
// Interrupted: stop what was started, by pid, and leave no temp dir behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGTERM');
    void (own?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
const redisEnv = own?.env ?? { PORTCULLIS_TEST_REDIS: 'single' };
const children: ChildProcess[] = [];
const listen = (s: Server) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

// The proxy: round robin, or the backend named by x-backend (to replay a proof at the other process).
const ports: number[] = [];
let turn = 0;
const proxy = createServer((req, res) => {
  const forced = req.headers['x-backend'];
  const port = ports[forced === undefined ? turn++ % ports.length : Number(forced)]!;
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

// The IdP, counting client-credentials grants (the agents' token requests) as they happen.
const agentGrants: number[] = [];
const idpProcess = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'idp.ts')], {
  env: { ...process.env, APP_BASE_URL: baseURL },
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(idpProcess);
const issuer = await new Promise<string>((ok) => {
  let buffered = '';
  idpProcess.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('issuer ')) ok(line.slice(7));
      if (line === 'grant client_credentials') agentGrants.push(Date.now());
    }
  });
});

const prefix = `portcullis-bench:${randomBytes(4).toString('hex')}:`;
for (let i = 0; i < 2; i++) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', resolve(import.meta.dirname, 'app.ts')],
    {
      env: {
        ...process.env,
        ...redisEnv,
        PREFIX: prefix,
        PORT: String(port),
        BASE_URL: baseURL,
        ISSUER: issuer,
        CLIENT_SECRET: WEB_SECRET,
        SERVICE_SECRET,
        AUDIENCE: API_AUDIENCE,
        // The docs' advice for a fleet on a cluster or Sentinel set: a store timeout above the failover time.
        SESSION_TIMEOUT_MS: TOPOLOGY === 'single' ? '2000' : '5000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  await new Promise<void>((ok) =>
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && ok()),
  );
  ports.push(port);
}
/** A client of the run's own (its slot map fresh: made after the failover, not before). */
async function connectRedis() {
  const client = topologyClient({ ...process.env, ...redisEnv });
  client.on('error', () => undefined);
  return client.connect();
}

async function stats(): Promise<Array<{ heapUsed: number; replayStoreWarnings: number }>> {
  return Promise.all(ports.map(async (port) => (await fetch(`http://127.0.0.1:${port}/heap`)).json()));
}

progress('IdP and 2 app processes ready');
const traffic = new Traffic(baseURL, [], await dpopCaller(issuer));
const users: User[] = traffic.users;
// Warm-up (compiled code, pools, the agents' token), then the baseline heap.
for (let i = 0; i < 50; i++) {
  const user = await traffic.signIn();
  if (user !== undefined) users.push(user);
}
await fetch(`${baseURL}/call`);
const heapBefore = await stats();

progress(`phase 1: ${LOGINS} logins`);
// Phase 1: logins.
let started = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (started++ < LOGINS) {
      const user = await traffic.signIn();
      if (user !== undefined) users.push(user);
    }
  }),
);
const loginSeconds = (performance.now() - t0) / 1000;
const phase1 = traffic.outcomes.length;

progress(
  `phase 2: ${SECONDS} s of mixed traffic${FAILOVER ? ', a master killed a third of the way in' : ''}`,
);
// Phase 2: mixed traffic, and the failover a third of the way in.
const phase2Start = Date.now();
let killedAt: number | undefined;
const killing = FAILOVER
  ? (async () => {
      await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 3));
      const redis = await connectRedis();
      const [tokenKey] = (await keysMatching(redis, `${prefix}token:*`)).filter((k) => !k.endsWith(':lock'));
      await redis.destroy();
      await own!.aim(tokenKey!);
      await own!.kill();
      killedAt = Date.now();
      progress('master killed');
    })()
  : Promise.resolve();
await Promise.all(
  Array.from({ length: CONCURRENCY }, (_, w) => traffic.run(phase2Start + SECONDS * 1000, w)),
);
await killing;
const phase2End = Date.now();

progress(`checking ${users.length} users, measuring Redis memory`);
// After: is everyone still signed in? Then what it all costs in Redis (with 20 logins left pending).
const lostAtEnd: User[] = [];
for (let i = 0; i < users.length; i += 32) {
  await Promise.all(
    users.slice(i, i + 32).map(async (user) => {
      const res = await user.browser.get(`${baseURL}/me`, { accept: 'application/json' });
      if (res.status !== 200 || JSON.parse(res.body).authenticated !== true) lostAtEnd.push(user);
    }),
  );
}
await Promise.all(Array.from({ length: 20 }, () => new TestBrowser().get(`${baseURL}/login`)));
const redis = await connectRedis();
const memory = await memoryByKind(redis, prefix);
const heapAfter = await stats();

const ok = report({
  topology: TOPOLOGY,
  failover: FAILOVER,
  concurrency: CONCURRENCY,
  logins: {
    count: LOGINS,
    seconds: loginSeconds,
    failed: traffic.outcomes.slice(0, phase1).filter((o) => !o.ok).length,
  },
  phase2: { start: phase2Start, end: phase2End, outcomes: traffic.outcomes.slice(phase1) },
  killedAt,
  agentGrants: agentGrants.filter((at) => at >= phase2Start),
  lostAtEnd: lostAtEnd.map((u) => u.signedInAt),
  users: users.length,
  memory,
  heapBefore,
  heapAfter,
});

for (const child of children) child.kill('SIGTERM');
proxy.close();
proxy.closeAllConnections();
if (own === undefined) await deleteKeys(redis, `${prefix}*`); // a shared Redis: leave nothing behind
await redis.destroy();
await own?.stop();
process.exit(ok ? 0 : 1);
