/**
 * A Sentinel set of our own for the tests and the fleet benchmark: a master, its replica and three
 * Sentinels (`redis-server --sentinel`), all on loopback ports chosen free at run time, config files
 * in a temp dir. Each Sentinel's config already names the replica and the other Sentinels (with the
 * ids they are given), so that the set can fail over at once instead of after the ~2 s the
 * Sentinels take to find each other. Every process is stopped by its pid.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redisCli, topologyFrame, waitReplicated } from './redis-cluster.js';
import { freePort, type RedisServer, startRedisServer } from './redis-server.js';

export const SENTINEL_MASTER_NAME = 'portcullis-test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface TestRedisSentinel {
  readonly name: string;
  /** `127.0.0.1:port` of each Sentinel, for `createSentinel({ sentinelRootNodes })` and REDIS_SENTINELS. */
  readonly sentinels: string[];
  /** The port of the master, as the Sentinels see it now. */
  master(): Promise<number>;
  /** SIGKILL the master as in a crash; its port. */
  killMaster(): Promise<number>;
  /** Until the replica has received all the master wrote. */
  waitReplicated(): Promise<void>;
  /** Until the Sentinels name a live master and its live replica, if any, is in step with it. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisSentinelOptions {
  /** Milliseconds of silence before the Sentinels call the master down. @default 1000 */
  downAfterMs?: number;
}

export async function startRedisSentinel({
  downAfterMs = 1000,
}: RedisSentinelOptions = {}): Promise<TestRedisSentinel> {
  const { dir, servers, dead, stop } = await topologyFrame('sentinel');
  try {
    // Replicas in step at once, not after the 5 s a master waits for more replicas to sync.
    const data = ['--dir', dir, '--repl-diskless-sync-delay', '0'];
    const master = await startRedisServer('redis-server', { args: data });
    const masterPort = Number(new URL(master.url).port);
    servers.set(masterPort, master);
    const replica = await startRedisServer('redis-server', {
      args: [...data, '--replicaof', '127.0.0.1', String(masterPort)],
    });
    const replicaPort = Number(new URL(replica.url).port);
    servers.set(replicaPort, replica);

    const sentinels = await Promise.all(
      [0, 1, 2].map(async () => ({ port: await freePort(), id: randomBytes(20).toString('hex') })),
    );
    await Promise.all(
      sentinels.map(async ({ port, id }) => {
        const config = join(dir, `sentinel-${port}.conf`);
        const known = sentinels.filter((s) => s.port !== port);
        await writeFile(
          config,
          [
            `sentinel myid ${id}`,
            `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
            `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${downAfterMs}`,
            `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${Math.max(3000, downAfterMs * 3)}`,
            `sentinel known-replica ${SENTINEL_MASTER_NAME} 127.0.0.1 ${replicaPort}`,
            ...known.map(
              (s) => `sentinel known-sentinel ${SENTINEL_MASTER_NAME} 127.0.0.1 ${s.port} ${s.id}`,
            ),
            '',
          ].join('\n'),
        );
        servers.set(port, await startRedisServer('redis-server', { config, port, args: ['--sentinel'] }));
      }),
    );
    const set = handle(
      [masterPort, replicaPort],
      sentinels.map((s) => s.port),
      servers,
      dead,
      stop,
    );
    await set.waitHealthy();
    return set;
  } catch (err) {
    await stop();
    throw err;
  }
}

function handle(
  dataPorts: number[],
  sentinelPorts: number[],
  servers: Map<number, RedisServer>,
  dead: Set<number>,
  stop: () => Promise<void>,
): TestRedisSentinel {
  const ask = async (...args: string[]) => redisCli(sentinelPorts[0]!, 'sentinel', ...args);
  const set: TestRedisSentinel = {
    name: SENTINEL_MASTER_NAME,
    sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`),
    async master() {
      return Number((await ask('get-master-addr-by-name', SENTINEL_MASTER_NAME)).split('\n')[1]);
    },
    async killMaster() {
      const port = await set.master();
      dead.add(port);
      await servers.get(port)?.stop('SIGKILL');
      return port;
    },
    async waitReplicated() {
      await waitReplicated(await set.master());
    },
    async waitHealthy(timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const port = await set.master().catch(() => 0);
        const replication = dead.has(port) ? '' : await redisCli(port, 'info', 'replication').catch(() => '');
        const master = await ask('master', SENTINEL_MASTER_NAME).catch(() => '');
        const field = (name: string) => new RegExp(`^${name}\\n(.*)$`, 'm').exec(master)?.[1];
        const replicas = dataPorts.filter((p) => p !== port && !dead.has(p)).length;
        if (
          replication.includes('role:master') &&
          (replicas === 0 || /^slave0:.*state=online/m.test(replication)) &&
          field('flags') === 'master' &&
          field('num-other-sentinels') === '2'
        ) {
          return;
        }
        if (Date.now() > deadline) throw new Error(`the Sentinel set was not healthy within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    stop,
  };
  return set;
}
