/**
 * What `auth()` costs an app on every request of a signed-in user, next to express-openid-connect and a
 * route with no auth at all, in the same process and the same run:
 *
 *   node --import tsx bench/signin/per-request.ts [--repeat 3] [--rounds 12] [--seconds 1]
 *     [--connections 8] [--logins 32] [--modes absent,api,sdk] [--store memory|redis] [--baseline <git ref>]
 *     [--only <app>,<app>]
 *
 * The apps run in a child process (per-request-app.ts), the IdP and the load (autocannon) here, so the
 * child's `process.cpuUsage()` is the apps' CPU alone. Contenders: no auth; express-session alone, with
 * a session of one small value and with portcullis' own sessions (what the session layer costs before
 * auth() runs); portcullis (`auth()` + express-session, its store's touches throttled as by default, and with
 * `sessionTouchInterval: 0`: express-session's touch on every request); express-openid-connect with a session store
 * and with its default encrypted cookie. The stores are MemoryStores, or connect-redis at REDIS_URL
 * with `--store redis`. Each app signs in once, then every round sends requests for `--seconds` with
 * that session cookie to a bare route behind the middleware, contenders in an order rotated each
 * round. **Added CPU** is the median over the rounds of (contender − no auth) in the same round, so
 * drift cancels; **throughput** the same with ratios. Also the session store calls per request and
 * the app's CPU per complete login. `--only` measures those apps (and no auth) per request.
 *
 * Each repeat runs one child per OpenTelemetry mode, interleaved: `absent` (`@opentelemetry/api` hidden,
 * as for an app without it), `api` (installed, no SDK) and `sdk` (the 2.x SDK exporting to nowhere).
 * `--baseline` adds the `auth()` of another commit to the same children. Prints a Markdown table and
 * writes bench/results/signin-per-request.json. `BENCH_CPU_PROF=<dir>` writes each child's CPU profile
 * there (`--cpu-prof`), to see where an app's time goes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startIdp } from '../../__tests__/helpers/idp.js';
import { baselineLib } from '../baseline-lib.js';
import { login } from './login.js';
import type { MiddlewareTimes } from './middleware-alone.js';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '12' },
    seconds: { type: 'string', default: '1' },
    connections: { type: 'string', default: '8' },
    logins: { type: 'string', default: '32' },
    modes: { type: 'string', default: 'absent,api,sdk' },
    baseline: { type: 'string' },
    store: { type: 'string', default: 'memory' },
    only: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const LOGINS = Number(values.logins);
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const quiet = console.warn;
console.warn = (...a: unknown[]) => (String(a[0]).startsWith('oidc-provider') ? undefined : quiet(...a));

interface Measured {
  mode: string;
  /** Median app CPU per request over the rounds, µs. */
  cpuUs: Record<string, number>;
  /** Median over the rounds of (contender − no auth), µs. */
  addedCpuUs: Record<string, number>;
  /** Median requests per second, and median over the rounds of (contender / no auth). */
  rps: Record<string, number>;
  ratio: Record<string, number>;
  /** Session store calls per request (get, set, touch, destroy), over every round. */
  storeOps: Record<string, Record<string, number>>;
  /** Median app CPU per complete login (GET /login, the callback and its token request), µs. */
  loginUs: Record<string, number>;
  /** Bytes of the largest session in each store (JSON). */
  sessionBytes: Record<string, number>;
  /** auth() without HTTP or express-session (middleware-alone.ts). */
  alone: Record<string, MiddlewareTimes>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve(answer as T));
    child.send(message);
  });
}

/** One block of requests for `--seconds`; how many were answered. */
async function cannon(url: string, cookie: string, seconds = SECONDS): Promise<number> {
  const result = await autocannon({
    url,
    connections: Number(values.connections),
    duration: seconds,
    headers: { cookie },
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.total;
}

const idp = await startIdp();

async function measure(mode: string, baseline: string | undefined): Promise<Measured> {
  const hide = mode === 'absent' ? ['--import', here('../service/without-otel.ts')] : [];
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const env: Record<string, string> = {
    BENCH_ISSUER: idp.issuer,
    BENCH_OTEL: mode,
    BENCH_STORE: values.store,
  };
  if (baseline !== undefined) env.BENCH_BASELINE = baseline;
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', ...hide, here('./per-request-app.ts')],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const { apps } = await new Promise<{ apps: Record<string, string> }>((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()))),
  );
  const cpu = async () => (await ask<{ cpu: number }>(child, 'cpu')).cpu;
  const ops = async () => (await ask<{ ops: Record<string, Record<string, number>> }>(child, 'ops')).ops;
  for (const url of Object.values(apps)) idp.allowApp(url);

  // Sign in at each app that has a login; the app's CPU per login, rounds alternating.
  const signingIn = Object.keys(apps).filter((n) => n !== 'no auth' && !n.startsWith('express-session'));
  const loginSamples: Record<string, number[]> = Object.fromEntries(signingIn.map((n) => [n, []]));
  const cookies: Record<string, string> = {};
  for (const name of signingIn) await login(apps[name]!); // discovery, JWKS, JIT
  const loginRounds = signingIn.length; // each app takes each place in the order once
  for (let r = 0; r < loginRounds; r++) {
    for (let j = 0; j < signingIn.length; j++) {
      const name = signingIn[(r + j) % signingIn.length]!;
      const before = await cpu();
      for (let i = 0; i < LOGINS / loginRounds; i++) {
        const browser = await login(apps[name]!);
        cookies[name] = browser.cookieHeader(new URL(apps[name]!));
      }
      loginSamples[name]!.push((await cpu()) - before);
    }
  }
  cookies["express-session (portcullis' session)"] = cookies['portcullis (sessionTouchInterval: 0)']!;
  cookies['no auth'] = cookies.portcullis!;
  for (const name of ['express-session (small session)', 'express-session (small session, throttleTouch)']) {
    const seeded = await fetch(`${apps[name]}/seed`);
    cookies[name] = seeded.headers.getSetCookie()[0]!.split(';')[0]!;
  }
  const only = values.only?.split(',');
  const names = Object.keys(apps).filter((n) => n === 'no auth' || only === undefined || only.includes(n));
  for (const name of names) {
    const answer = await (
      await fetch(`${apps[name]}/whoami`, { headers: { cookie: cookies[name]! } })
    ).text();
    const expected = name === 'no auth' ? 'signed out' : 'signed in';
    if (answer !== expected) throw new Error(`${name}: ${answer}, expected ${expected}`);
    await cannon(`${apps[name]}/bare`, cookies[name]!); // warm-up
  }

  const cpuSamples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const rpsSamples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const storeOps: Record<string, Record<string, number>> = {};
  const requestsOf: Record<string, number> = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(r + j) % names.length]!;
      const opsBefore = await ops();
      const before = await cpu();
      const answered = await cannon(`${apps[name]}/bare`, cookies[name]!);
      cpuSamples[name]!.push(((await cpu()) - before) / answered);
      rpsSamples[name]!.push(answered / SECONDS);
      const opsAfter = await ops();
      storeOps[name] ??= { get: 0, set: 0, touch: 0, destroy: 0 };
      const mine = storeOps[name];
      for (const [store, calls] of Object.entries(opsAfter)) {
        for (const [method, n] of Object.entries(calls)) {
          mine[method]! += n - opsBefore[store]![method]!;
        }
      }
      requestsOf[name] = (requestsOf[name] ?? 0) + answered;
    }
  }
  const { sizes } = await ask<{ sizes: Record<string, number> }>(child, 'sizes');
  const { alone } = await ask<{ alone: Record<string, MiddlewareTimes> }>(child, 'alone');
  child.send('exit'); // an exit of its own, so that --cpu-prof (NODE_OPTIONS) writes its profile

  const none = 'no auth';
  return {
    mode,
    cpuUs: Object.fromEntries(names.map((n) => [n, median(cpuSamples[n]!)])),
    addedCpuUs: Object.fromEntries(
      names.map((n) => [n, median(cpuSamples[n]!.map((v, r) => v - cpuSamples[none]![r]!))]),
    ),
    rps: Object.fromEntries(names.map((n) => [n, median(rpsSamples[n]!)])),
    ratio: Object.fromEntries(
      names.map((n) => [n, median(rpsSamples[n]!.map((v, r) => v / rpsSamples[none]![r]!))]),
    ),
    storeOps: Object.fromEntries(
      Object.entries(storeOps).map(([name, calls]) => [
        name,
        Object.fromEntries(Object.entries(calls).map(([m, n]) => [m, n / requestsOf[name]!])),
      ]),
    ),
    loginUs: Object.fromEntries(signingIn.map((n) => [n, median(loginSamples[n]!) / (LOGINS / loginRounds)])),
    sessionBytes: sizes,
    alone,
  };
}

const baseline = values.baseline === undefined ? undefined : baselineLib(values.baseline);
const modes = values.modes.split(',');
const runs: Measured[] = [];
for (let r = 0; r < Number(values.repeat); r++) {
  for (const mode of modes) {
    process.stderr.write(`repeat ${r + 1}, OpenTelemetry ${mode}\n`);
    runs.push(await measure(mode, baseline));
  }
}
await idp.close();

const fmt = (xs: number[], digits = 1) =>
  xs.length === 1
    ? xs[0]!.toFixed(digits)
    : `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)} to ${Math.max(...xs).toFixed(digits)})`;
const lines = [
  '| OpenTelemetry | app | CPU per request (µs) | added over no auth (µs) | req/s | of no auth | store calls per request | CPU per login (µs) |',
  '|---|---|---|---|---|---|---|---|',
];
for (const mode of modes) {
  const of = runs.filter((m) => m.mode === mode);
  for (const name of Object.keys(of[0]!.cpuUs)) {
    const calls = Object.entries(of.at(-1)!.storeOps[name] ?? {})
      .filter(([, n]) => n > 0.001)
      .map(([method, n]) => `${method} ${n.toFixed(2)}`)
      .join(', ');
    const logins = of.every((m) => m.loginUs[name] !== undefined)
      ? fmt(
          of.map((m) => m.loginUs[name]!),
          0,
        )
      : '';
    lines.push(
      `| ${mode} | ${name} | ${fmt(of.map((m) => m.cpuUs[name]!))} | ${fmt(of.map((m) => m.addedCpuUs[name]!))} | ${fmt(
        of.map((m) => m.rps[name]!),
        0,
      )} | ${fmt(
        of.map((m) => m.ratio[name]!),
        2,
      )}x | ${calls || 'none'} | ${logins} |`,
    );
  }
}
lines.push(
  '',
  '| OpenTelemetry | auth() | alone, per request (µs) | alone, reading req.oidc.user too (µs) | session bytes |',
  '|---|---|---|---|---|',
);
for (const mode of modes) {
  const of = runs.filter((m) => m.mode === mode);
  for (const name of Object.keys(of[0]!.alone)) {
    lines.push(
      `| ${mode} | ${name} | ${fmt(
        of.map((m) => m.alone[name]!.middlewareNs / 1000),
        2,
      )} | ${fmt(
        of.map((m) => m.alone[name]!.withUserNs / 1000),
        2,
      )} | ${of.at(-1)!.sessionBytes[name]} |`,
    );
  }
}
const bytes = runs.at(-1)!.sessionBytes;
lines.push(
  '',
  `Session bytes (JSON, largest in each store): ${Object.entries(bytes)
    .map(([n, b]) => `${n} ${b}`)
    .join(', ')}`,
);
process.stdout.write(`${lines.join('\n')}\n`);
const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(
  `${dir}signin-per-request.json`,
  JSON.stringify(
    { date: new Date().toISOString(), node: process.version, baseline: values.baseline, runs },
    null,
    2,
  ),
);
process.exit(0);
