/**
 * One measuring process of cpu.ts (see there). Reads BENCH_ENDPOINTS, BENCH_ROUNDS, BENCH_OTEL and
 * BENCH_BASELINE; prints one `Measured` as JSON.
 */
import axios, { type AxiosResponse, type CreateAxiosDefaults, type InternalAxiosRequestConfig } from 'axios';
import type { ServiceAgent } from '../../lib/index.js';
import { CLIENT_ID, CLIENT_SECRET } from './clients.js';

export interface Measured {
  mode: string;
  /** Each static peer and the contenders compared with it. */
  peers: Record<string, string[]>;
  /** Median client CPU per call (user + system), µs, over the rounds. */
  cpuUs: Record<string, number>;
  /** Median over the rounds of (contender − its static peer) in the same round, µs: drift cancels. */
  addedCpuUs: Record<string, number>;
  /** Median wall time per call at 100 concurrent calls, ms, over every call of every wave. */
  concurrentMs: Record<string, number>;
  /** Median client CPU of one token request (invalidate, then getToken()), µs. */
  tokenRequestUs: Record<string, number>;
}

type Call = () => Promise<unknown>;
const { tokenEndpoint, apiUrl } = JSON.parse(process.env.BENCH_ENDPOINTS!) as {
  tokenEndpoint: string;
  apiUrl: string;
};
const rounds = Number(process.env.BENCH_ROUNDS ?? 40);
const mode = process.env.BENCH_OTEL ?? 'api';

if (mode === 'sdk') {
  const { setUpNoopSdk } = await import('./noop-sdk.js');
  await setUpNoopSdk();
}

const { serviceAgent } = await import('../../lib/index.js');
const agents: Record<string, typeof serviceAgent> = { portcullis: serviceAgent };
if (process.env.BENCH_BASELINE !== undefined) {
  const baseline = (await import(process.env.BENCH_BASELINE)) as { serviceAgent: typeof serviceAgent };
  agents.baseline = baseline.serviceAgent;
}

const staticToken = (
  (await (
    await fetch(tokenEndpoint, {
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
const headers = { Authorization: `Bearer ${staticToken}` };
const url = `${apiUrl}/orders`;

function checked(status: number): void {
  if (status !== 200) throw new Error(`status ${status}`);
}
const viaAxios =
  (instance: ReturnType<typeof axios.create>): Call =>
  async () =>
    checked((await instance.get('/orders')).status);
const viaFetch =
  (f: (u: string, init?: RequestInit) => Promise<Response>, init?: RequestInit): Call =>
  async () => {
    const res = await f(url, init);
    await res.arrayBuffer();
    checked(res.status);
  };

/**
 * The same calls over a transport that answers at once (an axios adapter, a fetch that makes a
 * Response): the HTTP stack's own CPU, and its noise, are gone, and what remains is what the agent
 * adds to a call. The token requests still reach the token endpoint.
 */
const stubAdapter = (config: InternalAxiosRequestConfig): Promise<AxiosResponse> =>
  Promise.resolve({ data: '{"ok":true}', status: 200, statusText: 'OK', headers: {}, config, request: {} });
const stubFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
  String(input) === tokenEndpoint ? fetch(input, init) : Promise.resolve(new Response('{"ok":true}'));
const stubAxios = (extra: CreateAxiosDefaults = {}) =>
  axios.create({ baseURL: apiUrl, adapter: stubAdapter, ...extra });

const calls: Record<string, Call> = {
  'static axios': viaAxios(axios.create({ baseURL: apiUrl, headers })),
  'static fetch': viaFetch(fetch, { headers }),
  'static axios, stub transport': viaAxios(stubAxios({ headers })),
  'static fetch, stub transport': viaFetch(stubFetch, { headers }),
};
const peers: Record<string, string[]> = Object.fromEntries(Object.keys(calls).map((n) => [n, []]));
const opened: ServiceAgent[] = [];
for (const [name, make] of Object.entries(agents)) {
  const agent = make({ tokenEndpoint, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const stubbed = make({ tokenEndpoint, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, fetch: stubFetch });
  opened.push(agent, stubbed);
  calls[`${name} attach`] = viaAxios(agent.attach(axios.create({ baseURL: apiUrl })));
  calls[`${name} fetch`] = viaFetch((u, init) => agent.fetch(u, init));
  calls[`${name} attach, stub transport`] = viaAxios(stubbed.attach(stubAxios()));
  calls[`${name} fetch, stub transport`] = viaFetch((u, init) => stubbed.fetch(u, init));
  for (const peer of Object.keys(peers))
    peers[peer]!.push(
      peer.replace('static axios', `${name} attach`).replace('static fetch', `${name} fetch`),
    );
}
/** The contenders measured under concurrency: the real transport only. */
const real = Object.keys(calls).filter((n) => !n.endsWith('stub transport'));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const names = Object.keys(calls);
for (let i = 0; i < 300; i++) for (const n of names) await calls[n]!(); // JIT, sockets, the tokens

/**
 * CPU per sequential call: each round runs a block of calls per contender, order rotated. A block over
 * the stub transport is 10 times longer, its calls being that much cheaper.
 */
const cpuSamples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < rounds; r++) {
  for (let j = 0; j < names.length; j++) {
    const n = names[(r + j) % names.length]!;
    const batch = n.endsWith('stub transport') ? 2000 : 200;
    const start = cpuNow();
    for (let i = 0; i < batch; i++) await calls[n]!();
    cpuSamples[n]!.push((cpuNow() - start) / batch);
  }
}
const addedCpuUs: Record<string, number> = {};
for (const [peer, contenders] of Object.entries(peers)) {
  for (const n of contenders) {
    addedCpuUs[n] = median(cpuSamples[n]!.map((v, r) => v - cpuSamples[peer]![r]!));
  }
}

/** Waves of 100 concurrent calls, interleaved by contender; every call's own wall time. */
const latencies: Record<string, number[]> = Object.fromEntries(real.map((n) => [n, []]));
for (let r = 0; r < Math.max(10, rounds / 2); r++) {
  for (let j = 0; j < real.length; j++) {
    const n = real[(r + j) % real.length]!;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        const start = process.hrtime.bigint();
        await calls[n]!();
        latencies[n]!.push(Number(process.hrtime.bigint() - start) / 1e6);
      }),
    );
  }
}

/** A token request on its own: the agent's work around the HTTP exchange, and the exchange. */
const tokenSamples: Record<string, number[]> = {};
for (const name of Object.keys(agents)) tokenSamples[name] = [];
for (let r = 0; r < rounds; r++) {
  for (const [i, name] of Object.keys(agents).entries()) {
    const agent = opened[2 * i]!;
    const start = cpuNow();
    for (let k = 0; k < 20; k++) {
      await agent.invalidate();
      await agent.getToken();
    }
    tokenSamples[name]!.push((cpuNow() - start) / 20);
  }
}
for (const agent of opened) await agent.close();

const result: Measured = {
  mode,
  peers,
  cpuUs: Object.fromEntries(names.map((n) => [n, median(cpuSamples[n]!)])),
  addedCpuUs,
  concurrentMs: Object.fromEntries(real.map((n) => [n, median(latencies[n]!)])),
  tokenRequestUs: Object.fromEntries(Object.entries(tokenSamples).map(([n, xs]) => [n, median(xs)])),
};
process.stdout.write(JSON.stringify(result));
process.exit(0);
