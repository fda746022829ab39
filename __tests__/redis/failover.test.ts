/**
 * A master killed mid-run, on a Redis Cluster (the shard of the agent's token) and on a Sentinel
 * set, while two "processes" (each its own client) use every Redis-backed part of portcullis:
 * everything recovers by itself within seconds, no call waits past its bound, no service call
 * fails, and what was written before the failover, once the replica had it (replication settled),
 * is there after it: sessions, the agent's token, the DPoP proofs seen (no replay accepted).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type OwnTopology, startOwnTopology } from '../helpers/redis-topology.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';
import { agentsOn } from '../service/fixtures/agents.js';
import { type FailoverRun, runFailover } from './fixtures/failover.js';

/** The agents say when the cache fails and recovers: expected here, and not what is tested. */
const logger = {
  warn: () => undefined,
  info: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};
let tokens: TokenServer;
const agents = agentsOn(() => tokens);
beforeAll(async () => {
  tokens = await startTokenServer();
});
afterAll(async () => {
  await agents.closeAgents();
  await tokens?.close();
});

describe.each(['cluster', 'sentinel'] as const)('%s: a master killed mid-run', (kind) => {
  let scenario: OwnTopology | undefined;
  let run: FailoverRun;
  beforeAll(async () => {
    scenario = await startOwnTopology(kind);
    run = await runFailover(scenario, { tokens, agent: (options) => agents.agent({ ...options, logger }) });
  }, 60_000);
  afterAll(() => scenario?.stop());

  test('the sessions on the dead master answer again within seconds, and none was lost', () => {
    expect(run.sessions.onDeadMaster).toBeGreaterThanOrEqual(5);
    expect(run.recoveredAfterMs).toBeLessThan(8000);
    expect(run.sessions.lost).toEqual([]);
  });

  test('a failover shorter than the store timeout costs latency, not a 503; no call waits past it', () => {
    expect(run.sessions.failed).toBe(0);
    expect(run.sessions.slowestMs).toBeLessThan(run.settings.sessionTimeoutMs + 500);
  });

  test('no DPoP proof seen before the failover is accepted again, during or after it', () => {
    expect(run.dpop.replaysTried).toBeGreaterThan(10);
    expect(run.dpop.replaysAccepted).toBe(0);
    expect(run.dpop.freshRefused).toBe(0);
    expect(run.dpop.slowestMs).toBeLessThan(run.settings.failOpenAfterMs + 1000);
  });

  test('service calls never fail; once Redis is back, a new agent takes the token from Redis', () => {
    expect(run.agent.failed).toBe(0);
    expect(run.agent.calls).toBeGreaterThan(10);
    expect(run.agent.requestsAfterRecovery).toBe(0);
  });

  test('the refresh lock answers (or fails) within its timeout, and works again after', () => {
    // The slack is for a loaded 2-core CI's event-loop lag (1,826 ms was seen at load 8 against a
    // 1,000 ms timeout); a lock call that waited for the failover instead would take its seconds.
    expect(run.lock.slowestMs).toBeLessThan(run.settings.cacheTimeoutMs + 1500);
    expect(run.lock.worksAfter).toBe(true);
  });
});
