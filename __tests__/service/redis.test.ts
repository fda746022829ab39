import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { redisTokenCache, type TokenCache } from '../../lib/index.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';
import { agentsOn } from './fixtures/agents.js';
import { connectRedis, type Redis, startThrowawayRedis, uniquePrefix } from './fixtures/redis.js';

let tokens: TokenServer;
let redis: Redis; // undefined in afterAll when beforeAll failed
const { agent, closeAgents } = agentsOn(() => tokens);

beforeAll(async () => {
  tokens = await startTokenServer();
  redis = await connectRedis();
});
// Reset before each test, not after: when beforeAll fails, jest skips beforeEach and the test but
// still runs afterEach and afterAll, which must then not trip over what beforeAll never made.
beforeEach(() => {
  tokens.requests = 0;
  tokens.expiresIn = 3600;
  tokens.delayMs = 0;
});
afterEach(() => closeAgents());
afterAll(async () => {
  redis?.destroy();
  await tokens?.close();
});

/** Start a fleet member process and wait until it is connected. */
async function member(
  prefix: string,
  calls: number,
): Promise<{ child: ChildProcessWithoutNullStreams; lines: string[] }> {
  const script = fileURLToPath(new URL('./fixtures/fleet-member.ts', import.meta.url));
  const child = spawn(process.execPath, [
    '--import',
    'tsx',
    script,
    tokens.tokenEndpoint,
    prefix,
    String(calls),
  ]);
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      lines.push(...d.toString().split('\n').filter(Boolean));
      if (lines.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`fleet member exited ${code}: ${stderr}`)));
  });
  return { child, lines };
}

describe('redisTokenCache', () => {
  test('implements get, set, delete and an owner-checked lock', async () => {
    const cache = redisTokenCache(redis, { prefix: uniquePrefix() });
    const value = { access_token: 't', token_type: 'Bearer', issued_at: 1, expires_at: 2 };
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', value, 60);
    expect(await cache.get('k')).toEqual(value);
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
    const release = await cache.lock!('k', 5000);
    expect(release).toBeInstanceOf(Function);
    expect(await cache.lock!('k', 5000)).toBeUndefined();
    await release!();
    const again = await cache.lock!('k', 5000);
    expect(again).toBeInstanceOf(Function);
    await again!();
  });

  test('corrupt or foreign entries read as a miss', async () => {
    const prefix = uniquePrefix();
    await redis.set(`${prefix}k`, 'not json');
    await redis.set(`${prefix}j`, '{"access_token":1}');
    const cache = redisTokenCache(redis, { prefix });
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.get('j')).toBeUndefined();
  });

  test('refuses what is not a redis client', () => {
    expect(() => redisTokenCache({} as never)).toThrow(
      new TypeError(
        'redisTokenCache() expects a client from the "redis" package (createClient(), createCluster() or createSentinel())',
      ),
    );
  });

  test('agents with their own memory share one token through Redis', async () => {
    const prefix = uniquePrefix();
    tokens.delayMs = 30;
    const fleet = [1, 2, 3, 4].map(() => agent({ cache: redisTokenCache(redis, { prefix }) }));
    const results = await Promise.all(fleet.flatMap((a) => Array.from({ length: 50 }, () => a.getToken())));
    expect(new Set(results.map((t) => t.access_token)).size).toBe(1);
    expect(tokens.requests).toBe(1);
  });

  test('a fleet refreshes once per lifetime, not once per process', async () => {
    const prefix = uniquePrefix();
    tokens.expiresIn = 1;
    const fleet = [1, 2, 3].map(() => agent({ cache: redisTokenCache(redis, { prefix }) }));
    const until = Date.now() + 2200;
    while (Date.now() < until) {
      await Promise.all(fleet.map((a) => a.getToken()));
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    // About 3 lifetimes: one token each (one more at most for a refresh racing the end), not 3 × 3.
    expect(tokens.requests).toBeLessThanOrEqual(4);
  });

  test('three agents in three processes sharing Redis → 1 token request', async () => {
    const prefix = uniquePrefix();
    tokens.delayMs = 50;
    const members = await Promise.all([1, 2, 3].map(() => member(prefix, 100)));
    for (const { child } of members) child.stdin.write('go\n');
    const outputs = await Promise.all(
      members.map(
        ({ child, lines }) =>
          new Promise<string[]>((resolve) => {
            child.once('exit', () => resolve(lines));
          }),
      ),
    );
    expect(outputs.map((lines) => JSON.parse(lines.at(-1)!))).toEqual([
      { tokens: 1 },
      { tokens: 1 },
      { tokens: 1 },
    ]);
    expect(tokens.requests).toBe(1);
  }, 30_000);
});

describe('when Redis fails', () => {
  test('Redis killed mid-run: calls still succeed, and the agent says so once', async () => {
    const own = await startThrowawayRedis();
    const client = await connectRedis(own.url);
    const warnings: string[] = [];
    tokens.expiresIn = 2;
    const billing = agent({ cache: redisTokenCache(client), logger: { warn: (_d, m) => warnings.push(m) } });
    try {
      await billing.getToken();
      await own.kill();
      const seen = new Set<string>();
      const until = Date.now() + 2200; // across at least one refresh
      while (Date.now() < until) {
        const before = Date.now();
        const batch = await Promise.all(Array.from({ length: 5 }, () => billing.getToken()));
        for (const t of batch) {
          expect((t.expires_at + 1) * 1000).toBeGreaterThan(before);
          seen.add(t.access_token);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(seen.size).toBeGreaterThanOrEqual(2);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^serviceAgent\(\): the token cache failed on /);
    } finally {
      client.destroy();
      await own.kill();
    }
  });

  test('a client that never answers: each call fails within timeoutMs (auth() uses the lock with no timeout of its own)', async () => {
    const never = () => new Promise<never>(() => undefined);
    const stuck = { get: never, set: never, del: never, eval: never };
    const cache = redisTokenCache(stuck, { timeoutMs: 150 });
    for (const call of [
      () => cache.lock!('refresh:x', 5000),
      () => cache.get('k'),
      () => cache.set('k', {} as never, 1),
    ]) {
      const started = Date.now();
      await expect(call()).rejects.toThrow('no answer within 150 ms');
      expect(Date.now() - started).toBeLessThan(1000);
    }
    expect(() => redisTokenCache(stuck, { timeoutMs: 0 })).toThrow(
      new TypeError('"timeoutMs" must be a positive number'),
    );
  });

  test('a cache that never answers: calls succeed after the cache timeout', async () => {
    const never = new Promise<never>(() => undefined);
    const hanging: TokenCache = {
      get: () => never,
      set: () => never,
      delete: () => never,
      lock: () => never,
    };
    const warnings: string[] = [];
    const billing = agent({ cache: hanging, logger: { warn: (_d, m) => warnings.push(m) } });
    const results = await Promise.all(Array.from({ length: 10 }, () => billing.getToken()));
    expect(new Set(results.map((t) => t.access_token)).size).toBe(1);
    expect(tokens.requests).toBe(1);
    expect(warnings).toEqual([
      'serviceAgent(): the token cache failed on get (no answer within 500 ms); using the in-process cache until it recovers, so each process may fetch its own token meanwhile',
    ]);
  });
});
