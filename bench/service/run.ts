/**
 * The service-calls bench: axios-oauth-client's interceptor, openid-client's clientCredentialsGrant
 * per call, and portcullis, side by side in one run, against a token endpoint that adds 50 ms.
 *
 *   node --import tsx bench/service/run.ts        (needs Redis at REDIS_URL, default 127.0.0.1:6379)
 *
 * Prints a Markdown table and writes bench/results/service.json.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startResourceServer, startTokenServer } from '../../__tests__/helpers/token-server.js';
import { CLIENT_ID, CLIENT_SECRET, type Contender, contender, type Endpoints, type Kind } from './clients.js';
import { hotPathNs, medians } from './latency.js';
import { loadTokenProvider } from './token-interceptor-shim.js';
import { count, runSteady, runWaves } from './traffic.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KINDS = ['interceptor', 'openid-client', 'portcullis'] as const;
type Row = Record<(typeof KINDS)[number], string>;

const tokens = await startTokenServer({ delayMs: 50 });
const api = await startResourceServer(tokens);
const endpoints: Endpoints = { tokenEndpoint: tokens.tokenEndpoint, apiUrl: api.url };

function reset(expiresIn = 3600): void {
  tokens.requests = 0;
  tokens.expiresIn = expiresIn;
  api.requests = api.valid = api.expired = api.unknown = 0;
  api.authorizations.length = 0;
  api.bodies.length = 0;
}

async function each(fn: (kind: Kind) => Promise<string>): Promise<Row> {
  const row = {} as Row;
  for (const kind of KINDS) row[kind] = await fn(kind);
  return row;
}

async function fresh<T>(kind: Kind, fn: (c: Contender) => Promise<T>): Promise<T> {
  const client = await contender(kind, endpoints);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function fleet(kind: Kind, mode: string): Promise<number[]> {
  const script = fileURLToPath(new URL('./fleet-member.ts', import.meta.url));
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const members: Array<{ child: ChildProcessWithoutNullStreams; out: string[] }> = [];
  for (let i = 0; i < 4; i++) {
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      script,
      kind,
      tokens.tokenEndpoint,
      api.url,
      REDIS_URL,
      prefix,
      mode,
    ]);
    const out: string[] = [];
    child.stderr.pipe(process.stderr);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out.push(...d.toString().split('\n').filter(Boolean));
        if (out.includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`fleet member exited ${code}`)));
    });
    members.push({ child, out });
  }
  const done = members.map(
    ({ child, out }) => new Promise<string[]>((resolve) => child.once('exit', () => resolve(out))),
  );
  for (const { child } of members) child.stdin.write('go\n');
  const outputs = await Promise.all(done);
  return outputs.flatMap((out) => (JSON.parse(out.at(-1)!) as { statuses: number[] }).statuses);
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

const { real } = await loadTokenProvider();
log(
  `interceptor: axios-oauth-client v1 + ${real ? 'axios-token-interceptor' : 'a shim of axios-token-interceptor 0.2.0'}`,
);

log('1/6 token requests for 1,000 calls in waves of 100');
const waves = await each(async (kind) => {
  reset();
  const statuses = await fresh(kind, (c) => runWaves(c, 10, 100));
  if (count(statuses, 200) !== 1000) throw new Error(`${kind}: not every call succeeded`);
  return String(tokens.requests);
});

log('2/6 cold start with 200 concurrent callers');
const cold = await each(async (kind) => {
  reset();
  await fresh(kind, (c) => runWaves(c, 1, 200));
  return String(tokens.requests);
});

log('3/6 2-second tokens, 10 callers of steady traffic for 5 s');
const shortTokens: Record<string, Row> = { expired: {} as Row, requests: {} as Row, calls: {} as Row };
for (const kind of KINDS) {
  reset(2);
  const statuses = await fresh(kind, (c) => runSteady(c, 5000, 10));
  shortTokens.expired![kind] = `${api.expired} (${count(statuses, 401)} × 401 to callers)`;
  shortTokens.requests![kind] = String(tokens.requests);
  shortTokens.calls![kind] = String(statuses.length);
}

log('4/6 fleet of 4 processes, 250 calls each in waves of 25 (portcullis on Redis)');
const fleetRow = await each(async (kind) => {
  reset();
  const statuses = await fleet(kind, 'waves:10:25');
  return `${tokens.requests} (${count(statuses, 200)}/1000 ok)`;
});

log('5/6 fleet of 4 processes, 2-second tokens, steady traffic for 5 s');
const fleetShort = await each(async (kind) => {
  reset(2);
  const statuses = await fleet(kind, 'steady:5000:5');
  return `${tokens.requests} requests, ${api.expired} expired sent (${statuses.length} calls)`;
});

log('6/6 added median latency per call vs a static Authorization header');
reset();
const staticToken = (
  (await (
    await fetch(tokens.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    })
  ).json()) as { access_token: string }
).access_token;
const withStatic = { ...endpoints, staticToken };
const racers: Record<string, Contender> = {
  static: await contender('static', withStatic),
  interceptor: await contender('interceptor', withStatic),
  portcullis: await contender('portcullis', withStatic),
  'static-fetch': await contender('static-fetch', withStatic),
  'portcullis-fetch': await contender('portcullis-fetch', withStatic),
};
const m = await medians(racers, 3000);
const openidRacers = {
  static: await contender('static', withStatic),
  openid: await contender('openid-client', withStatic),
};
const mo = await medians(openidRacers, 100);
const agentForHotPath = await import('../../lib/index.js').then(({ serviceAgent }) =>
  serviceAgent({ tokenEndpoint: tokens.tokenEndpoint, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET }),
);
const hotNs = await hotPathNs(() => agentForHotPath.getToken());
await agentForHotPath.close();
for (const c of [...Object.values(racers), ...Object.values(openidRacers)]) await c.close();
const added = (a: number, b: number) => `${(a - b).toFixed(3)} ms`;
const latency: Row = {
  interceptor: added(m.interceptor!, m.static!),
  'openid-client': added(mo.openid!, mo.static!),
  portcullis: `${added(m.portcullis!, m.static!)} (axios), ${added(m['portcullis-fetch']!, m['static-fetch']!)} (fetch); getToken() hot path ${hotNs.toFixed(0)} ns`,
};

const rows: Array<[string, Row]> = [
  ['Token requests, 1,000 calls in waves of 100', waves],
  ['Token requests, cold start with 200 concurrent callers', cold],
  ['2-second tokens, steady traffic for 5 s: expired tokens sent', shortTokens.expired!],
  [
    '2-second tokens, steady traffic for 5 s: token requests (calls)',
    Object.fromEntries(
      KINDS.map((k) => [k, `${shortTokens.requests![k]} (${shortTokens.calls![k]})`]),
    ) as Row,
  ],
  ['Fleet of 4 processes, 4 × 250 calls (portcullis on Redis): token requests', fleetRow],
  ['Fleet of 4, 2-second tokens, steady traffic for 5 s', fleetShort],
  ['Added median latency per call vs a static header', latency],
];
const table = [
  `| | ${KINDS.join(' | ')} |`,
  `|---|${KINDS.map(() => '---').join('|')}|`,
  ...rows.map(([label, row]) => `| ${label} | ${KINDS.map((k) => row[k]).join(' | ')} |`),
].join('\n');
process.stdout.write(
  `${table}\n\nmedians (ms): ${JSON.stringify({ ...m, openid: mo.openid, staticForOpenid: mo.static })}\n`,
);
const dir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(
  `${dir}service.json`,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      realInterceptor: real,
      rows,
      medians: m,
      openidMedians: mo,
      hotPathNs: hotNs,
    },
    null,
    2,
  ),
);
await api.close();
await tokens.close();
