/**
 * The bearer bench: `node --import tsx bench/bearer/run.ts` (env: DURATION seconds, ROUNDS, CONNECTIONS,
 * KINDS, MIXES, BASELINE=<git ref> for `portcullis-baseline`).
 *
 * Starts one issuer (JWKS on loopback) and, one at a time, each server kind in its own process;
 * autocannon drives each with three token mixes: one token reused by every request, 1,000 distinct
 * tokens round-robin, and 2,000 (past the peers' caches, and past `portcullis-1000`'s). Ratios are to
 * the no-auth ceiling measured in the same run. Then a junk flood: 500 tokens with random unknown kids
 * at portcullis.
 *
 * OpenTelemetry (one-token mix only): `portcullis` runs with `@opentelemetry/api` installed and no SDK,
 * `portcullis-absent` with the API hidden, `portcullis-sdk` with the 2.x SDK exporting nowhere; the
 * run prints each one's CPU per request against `portcullis-absent`, round by round.
 *
 * `BENCH_CPU_PROF=<dir>`: each server writes a CPU profile (`--cpu-prof`) to `<dir>/<kind>/` when it stops.
 *
 * DPoP mode (`portcullis-dpop`, one-token mix only): a DPoP-bound token and a fresh proof per
 * request, pre-generated here before each run (each proof needs its own `jti`); its throughput is
 * reported against plain `portcullis` of the same run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { baselineLib } from '../baseline-lib.js';
import { type BenchDpopClient, dpopClient } from './dpop.js';
import { AUDIENCE, type BenchIssuer, startIssuer } from './keys.js';

const ALL_KINDS = [
  'none',
  'none-auth',
  'jose',
  'express-oauth2-jwt-bearer',
  'express-jwt',
  'portcullis',
  'portcullis-1000',
  'portcullis-absent',
  'portcullis-sdk',
  'portcullis-dpop',
];
/** Kinds run with the one-token mix only: their difference from plain `portcullis` is per request. */
const ONE_TOKEN_ONLY = new Set(['portcullis-dpop', 'portcullis-absent', 'portcullis-sdk']);
const DPOP_BASE_URL = 'https://api.bench.test';
/** Proofs minted per second of load: more than any server here serves. */
const PROOFS_PER_SECOND = 6000;
// KINDS=none,portcullis,portcullis-nocache narrows (or widens) the run; `none` must stay in it.
const KINDS = process.env.KINDS?.split(',') ?? ALL_KINDS;
const ALL_MIXES = [
  { name: 'one token', tokens: 1 },
  { name: '1,000 tokens', tokens: 1000 },
  { name: '2,000 tokens', tokens: 2000 },
];
// MIXES=2000 keeps only the mixes whose token count is listed.
const MIXES = ALL_MIXES.filter((m) => process.env.MIXES?.split(',').includes(String(m.tokens)) ?? true);
const DURATION = Number(process.env.DURATION ?? 4);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** Seconds of load per server and mix before the measured rounds: JIT, JWKS, caches. */
const WARMUP = Number(process.env.WARMUP ?? 2);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);

interface Running {
  child: ChildProcess;
  url: string;
}

const BASELINE = KINDS.includes('portcullis-baseline') ? baselineLib(process.env.BASELINE ?? 'main') : '';

async function startServer(kind: string, issuer: BenchIssuer): Promise<Running> {
  // `portcullis-absent`: @opentelemetry/api cannot be found, as in an app that does not install it.
  const hide = kind === 'portcullis-absent' ? ['--import', './bench/service/without-otel.ts'] : [];
  const dir = process.env.BENCH_CPU_PROF;
  const profile = dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(dir, kind)}`];
  const args = [...profile, '--import', 'tsx', ...hide, 'bench/bearer/server.ts', kind];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      BENCH_BASELINE: BASELINE,
      ISSUER: issuer.issuer,
      JWKS_URI: issuer.jwksUri,
      AUDIENCE,
      DPOP_BASE_URL,
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    const port = /listening (\d+)/.exec(out)?.[1];
    if (port !== undefined) return { child, url: `http://127.0.0.1:${port}/api/hello` };
  }
  child.kill();
  throw new Error(`${kind} did not start`);
}

async function stats(url: string): Promise<{ cpu: number; served: number }> {
  return (await (await fetch(url.replace('/api/hello', '/stats'))).json()) as { cpu: number; served: number };
}

/** DPoP mode: the bound token, and the client that mints its proofs. */
interface DpopLoad {
  client: BenchDpopClient;
  token: string;
}

async function load(
  url: string,
  tokens: readonly string[],
  duration: number,
  dpop?: DpopLoad,
): Promise<{ rps: number; non2xx: number; errors: number; cpuPerRequest: number }> {
  let i = 0;
  const proofs = dpop?.client.proofs(PROOFS_PER_SECOND * duration, `${DPOP_BASE_URL}/api/hello`, dpop.token);
  const before = await stats(url);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        setupRequest: (req) => {
          if (dpop !== undefined && proofs !== undefined) {
            const proof = proofs[i++ % proofs.length]!;
            return { ...req, headers: { ...req.headers, authorization: `DPoP ${dpop.token}`, dpop: proof } };
          }
          const token = tokens[i++ % tokens.length]!;
          return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
        },
      },
    ],
  });
  const after = await stats(url);
  const cpuPerRequest = (after.cpu - before.cpu) / Math.max(1, after.served - before.served);
  return { rps: result.requests.average, non2xx: result.non2xx, errors: result.errors, cpuPerRequest };
}

async function main(): Promise<void> {
  const issuer = await startIssuer();
  const all = Array.from({ length: 2000 }, (_, n) => issuer.token(n));
  const client = dpopClient();
  const dpop: DpopLoad = { client, token: issuer.token(0, undefined, { cnf: { jkt: client.jkt } }) };
  // DPoP mode runs with the one-token mix only.
  const kindsFor = (tokens: number) => KINDS.filter((kind) => tokens === 1 || !ONE_TOKEN_ONLY.has(kind));
  const dpopOf = (kind: string) => (kind === 'portcullis-dpop' ? dpop : undefined);
  // All servers up at once (idle ones cost nothing), then the runs interleaved and repeated, the
  // best of each kept: other processes on the machine then disturb every server alike.
  const servers = new Map<string, Running>();
  try {
    for (const kind of KINDS) servers.set(kind, await startServer(kind, issuer));
  } catch (err) {
    for (const { child } of servers.values()) child.kill();
    issuer.close();
    throw err;
  }
  const table: Record<string, Record<string, number>> = {};
  const cpu: Record<string, Record<string, number>> = {};
  /** CPU per request of each round, by kind, one-token mix: for differences round by round. */
  const oneTokenRounds: Record<string, number[]> = {};
  /** The ceiling's CPU per request divided by each kind's, round by round, by kind and mix. */
  const roundRatios: Record<string, Record<string, number[]>> = {};
  for (const kind of KINDS) {
    table[kind] = {};
    cpu[kind] = {};
    oneTokenRounds[kind] = [];
  }
  for (const mix of MIXES) {
    const tokens = all.slice(0, mix.tokens);
    for (const kind of kindsFor(mix.tokens)) {
      await load(servers.get(kind)!.url, tokens, WARMUP, dpopOf(kind));
    }
    for (let round = 0; round < ROUNDS; round++) {
      // The order rotates each round: a server measured always first (or last) in its round would carry
      // whatever the load generator's own state does to a round's later runs.
      const kinds = kindsFor(mix.tokens);
      const order = kinds.map((_, j) => kinds[(round + j) % kinds.length]!);
      const thisRound: Record<string, number> = {};
      for (const kind of order) {
        const r = await load(servers.get(kind)!.url, tokens, DURATION, dpopOf(kind));
        if (r.non2xx > 0 || r.errors > 0) {
          console.error(`${kind} ${mix.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        }
        table[kind]![mix.name] = Math.max(table[kind]![mix.name] ?? 0, r.rps);
        cpu[kind]![mix.name] = Math.min(cpu[kind]![mix.name] ?? Number.POSITIVE_INFINITY, r.cpuPerRequest);
        thisRound[kind] = r.cpuPerRequest;
        console.error(
          `${kind.padEnd(26)} ${mix.name.padEnd(13)} round ${round + 1}: ${Math.round(r.rps)} req/s, ${Math.round(r.cpuPerRequest)} µs CPU/request`,
        );
      }
      for (const kind of kinds) {
        if (mix.tokens === 1) oneTokenRounds[kind]!.push(thisRound[kind]!);
        const ratios = roundRatios[kind] ?? {};
        ratios[mix.name] = [...(ratios[mix.name] ?? []), thisRound.none! / thisRound[kind]!];
        roundRatios[kind] = ratios;
      }
    }
  }
  for (const { child } of servers.values()) {
    child.kill();
    await once(child, 'exit');
  }

  console.log(
    `\nRS256, ${CONNECTIONS} connections, best of ${ROUNDS} interleaved runs of ${DURATION} s, Node ${process.version}\n`,
  );
  console.log(`| server | ${MIXES.map((m) => m.name).join(' | ')} |`);
  console.log(`|---|${MIXES.map(() => '---').join('|')}|`);
  for (const kind of KINDS) {
    const cells = MIXES.map((m) => {
      const rps = table[kind]![m.name];
      if (rps === undefined) return '—';
      const ratio = rps / table.none![m.name]!;
      return `${Math.round(rps).toLocaleString('en')} req/s (${ratio.toFixed(2)}x)`;
    });
    console.log(`| ${kind} | ${cells.join(' | ')} |`);
  }
  console.log(
    "\nServer CPU per request (lowest of the runs), and the ceiling's CPU per request divided by it:\n",
  );
  console.log(`| server | ${MIXES.map((m) => m.name).join(' | ')} |`);
  console.log(`|---|${MIXES.map(() => '---').join('|')}|`);
  for (const kind of KINDS) {
    const cells = MIXES.map((m) => {
      const us = cpu[kind]![m.name];
      if (us === undefined) return '—';
      return `${Math.round(us)} µs (${(cpu.none![m.name]! / us).toFixed(2)}x)`;
    });
    console.log(`| ${kind} | ${cells.join(' | ')} |`);
  }

  const one = MIXES.find((m) => m.tokens === 1)?.name;
  if (
    one !== undefined &&
    table['portcullis-dpop']?.[one] !== undefined &&
    table.portcullis?.[one] !== undefined
  ) {
    const ratio = table['portcullis-dpop'][one]! / table.portcullis[one]!;
    const cpuRatio = cpu.portcullis![one]! / cpu['portcullis-dpop']![one]!;
    console.log(
      `\nDPoP vs Bearer (one token, fresh proof per request): ${ratio.toFixed(2)}x the throughput, ${cpuRatio.toFixed(2)}x by CPU per request`,
    );
  }

  console.log(
    "\nThe ceiling's CPU per request divided by each server's, round by round (the order rotated each round): median (range)\n",
  );
  console.log(`| server | ${MIXES.map((m) => m.name).join(' | ')} |`);
  console.log(`|---|${MIXES.map(() => '---').join('|')}|`);
  for (const kind of KINDS) {
    const cells = MIXES.map((m) => {
      const xs = [...(roundRatios[kind]?.[m.name] ?? [])].sort((a, b) => a - b);
      if (xs.length === 0) return '—';
      return `${xs[xs.length >> 1]!.toFixed(2)}x (${xs[0]!.toFixed(2)}–${xs.at(-1)!.toFixed(2)})`;
    });
    console.log(`| ${kind} | ${cells.join(' | ')} |`);
  }

  // What OpenTelemetry adds per request, round by round against the API-less server of the same round.
  const absent = oneTokenRounds['portcullis-absent'];
  if (absent !== undefined && absent.length > 0) {
    console.log(
      '\nCPU per request added over `portcullis-absent` (one token), median of the rounds (range):\n',
    );
    for (const kind of ['portcullis', 'portcullis-sdk', 'none']) {
      const runs = oneTokenRounds[kind];
      if (runs === undefined || runs.length !== absent.length) continue;
      const diffs = runs.map((us, i) => us - absent[i]!).sort((a, b) => a - b);
      const median = diffs[diffs.length >> 1]!;
      console.log(
        `- ${kind}: ${median.toFixed(1)} µs (${diffs[0]!.toFixed(1)} to ${diffs.at(-1)!.toFixed(1)})`,
      );
    }
  }

  // Junk flood: 500 tokens with random unknown kids, each sent once, at a fresh portcullis.
  const server = await startServer('portcullis', issuer);
  const before = issuer.jwksHits();
  const junk = Array.from({ length: 500 }, (_, n) =>
    issuer.token(n, `junk-${Math.random().toString(36).slice(2)}`),
  );
  const statuses = new Map<number, number>();
  await Promise.all(
    junk.map(async (token) => {
      const res = await fetch(server.url, { headers: { authorization: `Bearer ${token}` } });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }),
  );
  server.child.kill();
  console.log(
    `\nJunk flood (500 unknown kids): JWKS fetches ${issuer.jwksHits() - before}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
  issuer.close();
}

await main();
