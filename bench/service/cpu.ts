/**
 * What the agent costs a caller once its token is cached: client CPU per call and the median call at
 * 100 concurrent calls, for `attach(axios)` and `fetch()`, each against the same call with a static
 * `Authorization` header, in the same process and interleaved round by round, so that the other load
 * of a shared machine hits all alike. The token endpoint and the API run in a process of their own,
 * so `process.cpuUsage()` counts the client alone.
 *
 *   node --import tsx bench/service/cpu.ts [--repeat 3] [--rounds 40] [--baseline <git ref>]
 *
 * Each repeat runs one process per OpenTelemetry mode, interleaved:
 * - `absent`: `@opentelemetry/api` cannot be found (`without-otel.ts` hides it), as for most users;
 * - `api`: installed, no SDK registered (a library that depends on it, no telemetry set up);
 * - `sdk`: the 2.x SDK with span and metric processors that export to nowhere.
 * `--baseline` adds the agent of another commit (`git archive` of its `lib/`) to the same runs.
 * Prints medians and ranges across repeats, and writes bench/results/service-cpu.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { baselineLib } from '../baseline-lib.js';
import type { Measured } from './cpu-child.js';

const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '40' },
    baseline: { type: 'string' },
    modes: { type: 'string', default: 'absent,api,sdk' },
  },
});
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

function startServers(): Promise<{ endpoints: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', here('./servers.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve) => {
    child.stdout.once('data', (d: Buffer) =>
      resolve({ endpoints: d.toString().trim(), stop: () => child.stdin.end() }),
    );
  });
}

function measure(mode: string, env: Record<string, string>): Promise<Measured> {
  const hide = mode === 'absent' ? ['--import', here('./without-otel.ts')] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', ...hide, here('./cpu-child.ts')], {
    env: { ...process.env, ...env, BENCH_OTEL: mode },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Measured) : reject(new Error(`${mode}: exit ${code}`)),
    ),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (xs: number[], digits = 1) =>
  xs.length === 1
    ? xs[0]!.toFixed(digits)
    : `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)} to ${Math.max(...xs).toFixed(digits)})`;

const servers = await startServers();
const env: Record<string, string> = { BENCH_ENDPOINTS: servers.endpoints, BENCH_ROUNDS: values.rounds };
if (values.baseline !== undefined) env.BENCH_BASELINE = baselineLib(values.baseline);
const modes = values.modes.split(',');
const runs: Measured[] = [];
for (let r = 0; r < Number(values.repeat); r++) {
  for (const mode of modes) {
    process.stderr.write(`repeat ${r + 1}, OpenTelemetry ${mode}\n`);
    runs.push(await measure(mode, env));
  }
}
servers.stop();

/**
 * Per mode and figure, the median of the repeats and their range. Added CPU is the median of the
 * per-round differences with the static peer; added latency, the difference of the medians.
 */
const lines: string[] = [
  '| OpenTelemetry | figure | static header | portcullis | added |',
  '|---|---|---|---|---|',
];
for (const mode of modes) {
  const of = runs.filter((m) => m.mode === mode);
  for (const [peer, contenders] of Object.entries(of[0]!.peers)) {
    for (const name of contenders) {
      const cpu = (m: Measured, n: string) => m.cpuUs[n]!;
      lines.push(
        `| ${mode} | ${name}: client CPU per call (µs) | ${fmt(of.map((m) => cpu(m, peer)))} | ${fmt(of.map((m) => cpu(m, name)))} | ${fmt(of.map((m) => m.addedCpuUs[name]!))} |`,
      );
      if (of[0]!.concurrentMs[name] === undefined) continue;
      const ms = (m: Measured, n: string) => m.concurrentMs[n]!;
      lines.push(
        `| ${mode} | ${name}: median call, 100 concurrent (ms) | ${fmt(
          of.map((m) => ms(m, peer)),
          2,
        )} | ${fmt(
          of.map((m) => ms(m, name)),
          2,
        )} | ${fmt(
          of.map((m) => ms(m, name) - ms(m, peer)),
          2,
        )} |`,
      );
    }
  }
  for (const name of Object.keys(of[0]!.tokenRequestUs)) {
    lines.push(
      `| ${mode} | ${name}: client CPU per token request (µs) | | ${fmt(of.map((m) => m.tokenRequestUs[name]!))} | |`,
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(
  `${dir}service-cpu.json`,
  JSON.stringify(
    { date: new Date().toISOString(), node: process.version, baseline: values.baseline, runs },
    null,
    2,
  ),
);
