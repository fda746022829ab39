/**
 * Starts a Redis Cluster or a Sentinel set for a whole test run and holds it. jest's globalSetup
 * cannot import our helpers (it is loaded with plain `require`, outside the module mapper), so it
 * runs this file with tsx: `node --import tsx redis-topology-daemon.ts cluster|sentinel`.
 *
 * Prints one line of JSON, the environment that describes the topology (REDIS_CLUSTER_NODES, or
 * REDIS_SENTINELS and REDIS_SENTINEL_NAME), then stops every process by its pid when its stdin
 * closes (the parent ended, however it ended) or on SIGTERM / SIGINT.
 */
import { startOwnTopology } from './redis-topology.js';

const kind = process.argv[2];
if (kind !== 'cluster' && kind !== 'sentinel') {
  throw new Error(`usage: redis-topology-daemon.ts cluster|sentinel (not "${kind}")`);
}
const { env, stop } = await startOwnTopology(kind);

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  void stop().finally(() => process.exit(0));
};
process.stdin.on('end', shutdown).on('close', shutdown).resume();
process.once('SIGTERM', shutdown).once('SIGINT', shutdown);
process.stdout.write(`${JSON.stringify(env)}\n`);
