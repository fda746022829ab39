/**
 * The Redis a test run (or the fleet benchmark) uses, and the client for it. PORTCULLIS_TEST_REDIS
 * chooses: `single` (the default: one redis-server at REDIS_URL), `cluster` (a Redis Cluster, its
 * nodes in REDIS_CLUSTER_NODES) or `sentinel` (a master/replica pair watched by the Sentinels in
 * REDIS_SENTINELS, master name REDIS_SENTINEL_NAME). Child processes inherit the choice.
 */
import { createClient, createCluster, createSentinel } from 'redis';
import { startRedisCluster } from './redis-cluster.js';
import { startRedisSentinel } from './redis-sentinel.js';
import { DEFAULT_REDIS_URL } from './redis-server.js';

export type Topology = 'single' | 'cluster' | 'sentinel';
export const TOPOLOGIES: readonly Topology[] = ['single', 'cluster', 'sentinel'];

export type SingleRedis = ReturnType<typeof createClient>;
export type ClusterRedis = ReturnType<typeof createCluster>;
export type SentinelRedis = ReturnType<typeof createSentinel>;
/** A client of any of the three kinds: what every Redis-backed part of portcullis accepts. */
export type AnyRedis = SingleRedis | ClusterRedis | SentinelRedis;

/** The run's topology. */
export const TOPOLOGY: Topology = topology();

export function topology(env: NodeJS.ProcessEnv = process.env): Topology {
  const chosen = env['PORTCULLIS_TEST_REDIS'] || 'single';
  if (!(TOPOLOGIES as readonly string[]).includes(chosen)) {
    throw new Error(`PORTCULLIS_TEST_REDIS must be one of ${TOPOLOGIES.join(', ')}, not "${chosen}"`);
  }
  return chosen as Topology;
}

const hostPorts = (list: string | undefined) =>
  (list ?? '')
    .split(',')
    .filter(Boolean)
    .map((address) => {
      const [host = '127.0.0.1', port = '0'] = address.split(':');
      return { host, port: Number(port) };
    });

export interface ClientSettings {
  /** Fail at once while a node is unreachable instead of queueing (what the docs recommend). */
  disableOfflineQueue?: boolean;
  /** Milliseconds between reconnection attempts. @default 200 */
  reconnectMs?: number;
}

/**
 * An unconnected client for the topology that `env` describes; `url` forces one redis-server.
 * Node and Sentinel connections share the socket settings, so a dead node costs each attempt at
 * most the connect timeout.
 */
export function topologyClient(
  env: NodeJS.ProcessEnv = process.env,
  { disableOfflineQueue = false, reconnectMs = 200 }: ClientSettings = {},
  url?: string,
): AnyRedis {
  const socket = { connectTimeout: 2000, reconnectStrategy: () => reconnectMs };
  const kind = url === undefined ? topology(env) : 'single';
  if (kind === 'cluster') {
    const rootNodes = hostPorts(env['REDIS_CLUSTER_NODES']).map((n) => ({
      url: `redis://${n.host}:${n.port}`,
    }));
    if (rootNodes.length === 0) throw new Error('PORTCULLIS_TEST_REDIS=cluster needs REDIS_CLUSTER_NODES');
    return createCluster({ rootNodes, defaults: { disableOfflineQueue, socket } });
  }
  if (kind === 'sentinel') {
    const sentinelRootNodes = hostPorts(env['REDIS_SENTINELS']);
    const name = env['REDIS_SENTINEL_NAME'];
    if (sentinelRootNodes.length === 0 || !name) {
      throw new Error('PORTCULLIS_TEST_REDIS=sentinel needs REDIS_SENTINELS and REDIS_SENTINEL_NAME');
    }
    return createSentinel({
      name,
      sentinelRootNodes,
      nodeClientOptions: { disableOfflineQueue, socket },
      sentinelClientOptions: { socket },
    });
  }
  return createClient({ url: url ?? (env['REDIS_URL'] || DEFAULT_REDIS_URL), disableOfflineQueue, socket });
}

/** Where the topology is, in words, for error messages. */
export function describeTopology(env: NodeJS.ProcessEnv = process.env): string {
  switch (topology(env)) {
    case 'cluster':
      return `the Redis Cluster at ${env['REDIS_CLUSTER_NODES']}`;
    case 'sentinel':
      return `the Sentinels at ${env['REDIS_SENTINELS']}`;
    default:
      return env['REDIS_URL'] || DEFAULT_REDIS_URL;
  }
}

export function isCluster(client: AnyRedis): client is ClusterRedis {
  return typeof (client as Partial<ClusterRedis>).nodeClient === 'function';
}

/** Every key matching `pattern` on every master: `KEYS` on one node would miss a cluster's others. */
export async function keysMatching(client: AnyRedis, pattern: string): Promise<string[]> {
  if (isCluster(client)) {
    const keys: string[] = [];
    for (const master of client.masters) {
      const node = await client.nodeClient(master);
      for await (const batch of node.scanIterator({ MATCH: pattern, COUNT: 1000 })) keys.push(...batch);
    }
    return keys;
  }
  return client.keys(pattern);
}

/** Delete keys one by one: a multi-key DEL across a cluster's slots would be refused (CROSSSLOT). */
export async function deleteKeys(client: AnyRedis, pattern: string): Promise<void> {
  for (const key of await keysMatching(client, pattern)) await client.del(key);
}

/** A cluster or Sentinel set of our own, described for topologyClient(), with a master to kill. */
export interface OwnTopology {
  /** PORTCULLIS_TEST_REDIS and the variables that locate it. */
  readonly env: Record<string, string>;
  /** Make the master that holds `key` the one to kill (a Sentinel set has one master). */
  aim(key: string): Promise<void>;
  /** Whether `key` is on the master that kill() kills. */
  onVictim(key: string): Promise<boolean>;
  /** SIGKILL that master, as in a crash. */
  kill(): Promise<void>;
  /** Until every replica has received all its master wrote. */
  waitReplicated(): Promise<void>;
  stop(): Promise<void>;
}

export async function startOwnTopology(kind: 'cluster' | 'sentinel'): Promise<OwnTopology> {
  if (kind === 'sentinel') {
    const set = await startRedisSentinel();
    return {
      env: {
        PORTCULLIS_TEST_REDIS: 'sentinel',
        REDIS_SENTINELS: set.sentinels.join(','),
        REDIS_SENTINEL_NAME: set.name,
      },
      aim: async () => undefined,
      onVictim: async () => true,
      kill: async () => void (await set.killMaster()),
      waitReplicated: set.waitReplicated,
      stop: set.stop,
    };
  }
  const cluster = await startRedisCluster();
  let victim: number | undefined;
  const aim = async (key: string) => {
    victim = await cluster.masterOf(key);
  };
  return {
    env: { PORTCULLIS_TEST_REDIS: 'cluster', REDIS_CLUSTER_NODES: cluster.addresses.join(',') },
    aim,
    onVictim: async (key) => (await cluster.masterOf(key)) === victim,
    kill: async () => {
      if (victim === undefined) await aim('');
      await cluster.kill(victim!);
    },
    waitReplicated: cluster.waitReplicated,
    stop: cluster.stop,
  };
}
