/**
 * The failover helpers every Redis-backed part shares (lib/protocol/redis-recovery.ts): which
 * errors are worth another try, and the slot rediscovery that a `createCluster()` client does not
 * do by itself when a master dies and stays dead.
 */
import { describe, expect, jest, test } from '@jest/globals';
import {
  isTransientRedisError,
  REDISCOVER_EVERY_MS,
  RedisTimeoutError,
  redisCall,
  rediscover,
} from '../../lib/protocol/redis-recovery.js';

/** What rediscover() looks for on a node-redis cluster client, counting the rediscoveries. */
function fakeCluster(masters: Array<{ isReady: boolean } | undefined>) {
  const starts: unknown[] = [];
  return {
    starts,
    masters: masters.map((client) => ({ client })),
    _slots: {
      rediscover: async (startWith: unknown) => {
        starts.push(startWith);
      },
    },
  };
}

describe('isTransientRedisError', () => {
  test.each([
    'The client is offline',
    'Socket closed unexpectedly',
    'connect ECONNREFUSED 127.0.0.1:6379',
    'no answer within 250 ms',
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    "READONLY You can't write against a read only replica.",
    'LOADING Redis is loading the dataset in memory',
    'MASTERDOWN Link with MASTER is down',
  ])('%s: worth another try', (message) => {
    expect(isTransientRedisError(new Error(message))).toBe(true);
  });

  test.each([
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'ERR unknown command',
    'NOAUTH Authentication required.',
    'OOM command not allowed when used memory > maxmemory',
  ])('%s: the server meant it', (message) => {
    expect(isTransientRedisError(new Error(message))).toBe(false);
  });
});

describe('rediscover', () => {
  test('a cluster client rediscovers its slots from a connected master, at most once per interval', async () => {
    const cluster = fakeCluster([{ isReady: false }, { isReady: true }, { isReady: true }]);
    rediscover(cluster);
    rediscover(cluster);
    expect(cluster.starts).toEqual([cluster.masters[1]!.client]);
    await new Promise((resolve) => setTimeout(resolve, REDISCOVER_EVERY_MS + 20));
    rediscover(cluster);
    expect(cluster.starts).toHaveLength(2);
  });

  test('a closed cluster client is not woken up: a rediscovery would connect its nodes again', () => {
    const cluster = { ...fakeCluster([{ isReady: true }]), isOpen: false };
    rediscover(cluster);
    expect(cluster.starts).toEqual([]);
  });

  test('with no master connected, it starts from any (node-redis falls back to its root nodes)', () => {
    const cluster = fakeCluster([undefined, { isReady: false }]);
    rediscover(cluster);
    expect(cluster.starts).toEqual([cluster.masters[1]!.client]);
  });

  test('a cluster client with no way to rediscover: said once, not thrown', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const other = { masters: [{ client: { isReady: true } }], nodeClient: async () => undefined };
      rediscover(other);
      rediscover(other);
      expect(warn.mock.calls).toEqual([
        [
          'portcullis: this Redis Cluster client has no _slots.rediscover(): after a failover, its commands may keep going to the dead master (tested with redis 5.x)',
        ],
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  test('a failed rediscovery is no error; other clients are left alone', async () => {
    const failing = {
      masters: [{ client: { isReady: true } }],
      _slots: { rediscover: () => Promise.reject(new Error('down')) },
    };
    expect(() => rediscover(failing)).not.toThrow();
    for (const other of [undefined, null, {}, { masters: [] }, { isReady: true, get: () => undefined }]) {
      expect(() => rediscover(other)).not.toThrow();
    }
  });
});

describe('redisCall', () => {
  test('no answer within the timeout: a RedisTimeoutError, and a cluster rediscovers its slots', async () => {
    const cluster = fakeCluster([{ isReady: true }]);
    const started = Date.now();
    await expect(redisCall(cluster, () => new Promise(() => undefined), 100)).rejects.toThrow(
      new RedisTimeoutError('no answer within 100 ms'),
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(cluster.starts).toHaveLength(1);
  });

  test('an answer is passed through; an error too, after a rediscovery', async () => {
    const cluster = fakeCluster([{ isReady: true }]);
    expect(await redisCall(cluster, async () => 'OK', 100)).toBe('OK');
    expect(cluster.starts).toHaveLength(0);
    await expect(
      redisCall(cluster, () => Promise.reject(new Error('The client is offline')), 100),
    ).rejects.toThrow('The client is offline');
    expect(cluster.starts).toHaveLength(1);
  });
});
