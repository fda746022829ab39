/**
 * A Redis Cluster of our own for the tests and the fleet benchmark: 3 masters and 3 replicas of
 * Debian's `redis-server` on loopback ports chosen free at run time (the cluster bus ports too, with
 * `--cluster-port`, since port + 10000 may be taken or past 65535), node state files in a temp dir,
 * joined by `redis-cli --cluster create`. Every process is stopped by its pid.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, type RedisServer, startRedisServer } from './redis-server.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One `redis-cli` command against a node on loopback; its trimmed output. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 5000,
  });
  return stdout.trim();
}

/**
 * Until the replicas of the master at `port` have received everything it has written (their
 * replication offsets reached its own): what "the replication has settled" means in the failover tests.
 */
export async function waitReplicated(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await redisCli(port, 'info', 'replication');
    const own = Number(/^master_repl_offset:(\d+)/m.exec(info)?.[1]);
    const replicas = [...info.matchAll(/^slave\d+:.*offset=(\d+)/gm)].map((m) => Number(m[1]));
    if (replicas.length > 0 && replicas.every((offset) => offset >= own)) return;
    if (Date.now() > deadline) {
      throw new Error(`the replicas of ${port} did not catch up within ${timeoutMs} ms`);
    }
    await sleep(20);
  }
}

export interface TestRedisCluster {
  /** `127.0.0.1:port` of every node, for `createCluster({ rootNodes })` and REDIS_CLUSTER_NODES. */
  readonly addresses: string[];
  /** The port of the master that serves `key` now, as the live nodes see it. */
  masterOf(key: string): Promise<number>;
  /** The port of a replica of the master at `port`. */
  replicaOf(port: number): Promise<number>;
  /** SIGKILL: the node disappears as in a crash, with no goodbye to its clients or peers. */
  kill(port: number): Promise<void>;
  /** Until every master's replica has received all it wrote ({@link waitReplicated}). */
  waitReplicated(): Promise<void>;
  /** Until every live node says `cluster_state:ok` and no master is the dead one. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /**
   * Milliseconds before a silent node counts as failed: the failover takes about this plus one
   * second (election). Redis' own default is 15000; the tests want a failover in seconds.
   * @default 1000
   */
  nodeTimeoutMs?: number;
}

/**
 * What every test topology holds: a temp dir for its servers' files, the servers by port, the ports
 * killed on purpose, and a stop() that ends them all (by pid) and removes the dir.
 */
export async function topologyFrame(kind: string): Promise<{
  dir: string;
  servers: Map<number, RedisServer>;
  dead: Set<number>;
  stop: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), `portcullis-redis-${kind}-`));
  const servers = new Map<number, RedisServer>();
  const stop = async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, servers, dead: new Set<number>(), stop };
}

export async function startRedisCluster({
  nodeTimeoutMs = 1000,
}: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const { dir, servers, dead, stop } = await topologyFrame('cluster');
  try {
    const started = await Promise.all(
      Array.from({ length: 6 }, async () => {
        // A port found free may be taken before the node binds it (other tests start servers
        // too): a node that ends at start-up is started again on other ports.
        for (let attempt = 1; ; attempt++) {
          const [port, bus] = [await freePort(), await freePort()];
          try {
            servers.set(port, await startClusterNode(dir, port, bus, nodeTimeoutMs));
            return port;
          } catch (err) {
            if (attempt === 3 || !/ended at start-up/.test((err as Error).message)) throw err;
          }
        }
      }),
    );
    const addresses = started.map((port) => `127.0.0.1:${port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'],
      {
        timeout: 20_000,
      },
    );
    const cluster = handle(addresses, servers, dead, stop);
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

function startClusterNode(
  dir: string,
  port: number,
  bus: number,
  nodeTimeoutMs: number,
): Promise<RedisServer> {
  return startRedisServer('redis-server', {
    port,
    args: [
      ...['--cluster-enabled', 'yes', '--cluster-port', String(bus)],
      ...['--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir],
      ...['--cluster-node-timeout', String(nodeTimeoutMs)],
      // A replica may always take over, however long it was cut off: failovers in the tests
      // must happen, and the data at stake is the replica's, whatever its age.
      ...['--cluster-replica-validity-factor', '0'],
      // Replicas in step at once, not after the 5 s a master waits for more replicas to sync.
      ...['--repl-diskless-sync-delay', '0'],
    ],
  });
}

interface NodeLine {
  port: number;
  flags: string[];
  masterId: string;
  id: string;
  connected: boolean;
  slots: string[];
}

async function nodesSeenBy(port: number): Promise<NodeLine[]> {
  return (await redisCli(port, 'cluster', 'nodes')).split('\n').map((line) => {
    const [id = '', address = '', flags = '', masterId = '', , , , link = '', ...slots] = line.split(' ');
    return {
      id,
      port: Number(/:(\d+)@/.exec(address)?.[1]),
      flags: flags.split(','),
      masterId,
      connected: link === 'connected',
      slots,
    };
  });
}

function handle(
  addresses: string[],
  servers: Map<number, RedisServer>,
  dead: Set<number>,
  stop: () => Promise<void>,
): TestRedisCluster {
  const live = () => [...servers.keys()].filter((port) => !dead.has(port));
  const anyLive = () => {
    const port = live()[0];
    if (port === undefined) throw new Error('no live node in the cluster');
    return port;
  };
  const cluster: TestRedisCluster = {
    addresses,
    async masterOf(key) {
      const slot = Number(await redisCli(anyLive(), 'cluster', 'keyslot', key));
      for (const node of await nodesSeenBy(anyLive())) {
        if (!node.flags.includes('master') || node.flags.includes('fail')) continue;
        for (const range of node.slots) {
          const [from, to = from] = range.split('-').map(Number) as [number, number?];
          if (slot >= from && slot <= to) return node.port;
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    async replicaOf(port) {
      const nodes = await nodesSeenBy(anyLive());
      const master = nodes.find((n) => n.port === port);
      const replica = nodes.find((n) => n.masterId === master?.id && !dead.has(n.port));
      if (replica === undefined) throw new Error(`no live replica of ${port}`);
      return replica.port;
    },
    async kill(port) {
      dead.add(port);
      await servers.get(port)?.stop('SIGKILL');
    },
    async waitReplicated() {
      const masters = (await nodesSeenBy(anyLive())).filter(
        (n) => n.flags.includes('master') && n.slots.length > 0,
      );
      await Promise.all(masters.map((m) => waitReplicated(m.port)));
    },
    async waitHealthy(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(
          live().map(async (port) => {
            const info = await redisCli(port, 'cluster', 'info').catch(() => '');
            const replication = await redisCli(port, 'info', 'replication').catch(() => '');
            const nodes = await nodesSeenBy(port).catch(() => []);
            const masters = nodes.filter((n) => n.flags.includes('master') && n.slots.length > 0);
            return (
              info.includes('cluster_state:ok') &&
              // A replica still syncing could not take over: the failover tests need it in step.
              (!replication.includes('role:slave') || replication.includes('master_link_status:up')) &&
              masters.length === 3 &&
              masters.every((n) => !dead.has(n.port) && n.connected)
            );
          }),
        );
        if (states.every(Boolean)) return;
        if (Date.now() > deadline)
          throw new Error(`the Redis Cluster was not healthy within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    stop,
  };
  return cluster;
}
