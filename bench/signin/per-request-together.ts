/**
 * per-request.ts for a busy machine: the same apps (per-request-app.ts), but each in a process of its
 * own and all loaded **at the same time**, so that whatever else the machine does in a round weighs on
 * every contender alike. per-request.ts loads them one after another in one process, and on a 2-core
 * machine shared with other jobs the load moves between one contender's second and the next one's.
 *
 *   node --import tsx bench/signin/per-request-together.ts [--rounds 12] [--seconds 2] [--connections 4]
 *     [--mode absent|api|sdk] [--apps <app>,<app>]
 *
 * Each round loads every process for `--seconds` at once (autocannon, `--connections` each) and takes
 * each one's CPU time per answered request; **added CPU** is the median over the rounds of (contender −
 * no auth) in the same round. Prints a Markdown table and writes bench/results/signin-together.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startIdp } from '../../__tests__/helpers/idp.js';
import { login } from './login.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '12' },
    seconds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '4' },
    mode: { type: 'string', default: 'absent' },
    apps: {
      type: 'string',
      default: [
        'no auth',
        'express-session (small session)',
        'express-session (small session, throttleTouch)',
        'portcullis',
        'portcullis (throttleTouch)',
        'express-openid-connect (session store)',
      ].join(','),
    },
  },
});
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const quiet = console.warn;
console.warn = (...a: unknown[]) => (String(a[0]).startsWith('oidc-provider') ? undefined : quiet(...a));

const idp = await startIdp();
const names = values.apps.split(',');
if (!names.includes('no auth')) names.unshift('no auth');

interface Contender {
  name: string;
  child: ChildProcess;
  url: string;
  cookie: string;
}

function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (answer) => resolve((answer as { cpu: number }).cpu));
    child.send('cpu');
  });
}

async function startContender(name: string): Promise<Contender> {
  const hide = values.mode === 'absent' ? ['--import', here('../service/without-otel.ts')] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', ...hide, here('./per-request-app.ts')], {
    env: { ...process.env, BENCH_ISSUER: idp.issuer, BENCH_OTEL: values.mode, BENCH_ONLY: name },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const { apps } = await new Promise<{ apps: Record<string, string> }>((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()))),
  );
  const url = apps[name];
  if (url === undefined) throw new Error(`no app named "${name}" in per-request-app.ts`);
  idp.allowApp(url);
  let cookie = '';
  if (name.startsWith('express-session')) {
    const seeded = await fetch(`${url}/seed`);
    cookie = seeded.headers.getSetCookie()[0]!.split(';')[0]!;
  } else if (name !== 'no auth') {
    cookie = (await login(url)).cookieHeader(new URL(url));
  }
  const answer = await (await fetch(`${url}/whoami`, { headers: { cookie } })).text();
  if (answer !== (name === 'no auth' ? 'signed out' : 'signed in')) throw new Error(`${name}: ${answer}`);
  return { name, child, url, cookie };
}

const contenders: Contender[] = [];
for (const name of names) contenders.push(await startContender(name));

async function load(c: Contender, seconds: number): Promise<number> {
  const result = await autocannon({
    url: `${c.url}/bare`,
    connections: Number(values.connections),
    duration: seconds,
    headers: { cookie: c.cookie },
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${c.name}: ${result.non2xx} non-2xx`);
  return result.requests.total;
}

await Promise.all(contenders.map((c) => load(c, 2))); // warm-up: JIT, caches
const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
const rps: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < Number(values.rounds); r++) {
  const before = await Promise.all(contenders.map((c) => cpuOf(c.child)));
  const answered = await Promise.all(contenders.map((c) => load(c, Number(values.seconds))));
  const after = await Promise.all(contenders.map((c) => cpuOf(c.child)));
  contenders.forEach((c, i) => {
    samples[c.name]!.push((after[i]! - before[i]!) / answered[i]!);
    rps[c.name]!.push(answered[i]! / Number(values.seconds));
  });
  process.stderr.write(`round ${r + 1}\n`);
}
for (const c of contenders) c.child.kill();
await idp.close();

const none = samples['no auth']!;
const lines = [
  `OpenTelemetry ${values.mode}, ${values.rounds} rounds of ${values.seconds} s, all contenders loaded at once:`,
  '',
  '| app | CPU per request (µs) | added over no auth (µs), median (range of the middle half) | req/s |',
  '|---|---|---|---|',
];
const results: Record<string, { cpuUs: number; addedUs: number; rps: number }> = {};
for (const name of names) {
  const added = samples[name]!.map((v, r) => v - none[r]!).sort((a, b) => a - b);
  const q = (f: number) => added[Math.floor(f * (added.length - 1))]!;
  results[name] = { cpuUs: median(samples[name]!), addedUs: median(added), rps: median(rps[name]!) };
  lines.push(
    `| ${name} | ${median(samples[name]!).toFixed(1)} | ${median(added).toFixed(1)} (${q(0.25).toFixed(1)} to ${q(0.75).toFixed(1)}) | ${median(rps[name]!).toFixed(0)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(
  `${dir}signin-together.json`,
  JSON.stringify(
    { date: new Date().toISOString(), node: process.version, mode: values.mode, results, samples },
    null,
    2,
  ),
);
process.exit(0);
