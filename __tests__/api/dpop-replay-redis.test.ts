/**
 * DPoP replay detection on a fleet (RFC 9449 §11.1): with redisDpopReplayStore, a proof used at one
 * process is refused at another; without it each process only knows its own. When Redis cannot
 * answer (here with `failOpenAfterMs: 0`, an outage rather than a failover: redis/dpop-replay-store
 * tests the wait through a failover), each process goes on with its own memory, never hanging.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { type RedisClientLike, redisDpopReplayStore } from '../../lib/index.js';
import { API_BASE as BASE, type DpopKey, proof, withBoundToken } from '../helpers/dpop-client.js';
import {
  connectRedis,
  deleteKeys,
  keysMatching,
  type Redis,
  uniquePrefix,
} from '../service/fixtures/redis.js';
import { buildApp } from './app.js';

const HTU = `${BASE}/api/me`;
const fixture = withBoundToken();
let key: DpopKey;
let token: string;
let redisA: Redis;
let redisB: Redis;
const prefix = `${uniquePrefix()}jti:`;

beforeAll(async () => {
  ({ key, token } = fixture);
  [redisA, redisB] = [await connectRedis(), await connectRedis()];
});
afterAll(async () => {
  if (redisA === undefined || redisB === undefined) return; // beforeAll failed: its error is the one to read
  await deleteKeys(redisA, `${prefix}*`);
  await Promise.all([redisA.close(), redisB.close()]);
});

/** One "process" of the API: its own app, its own Redis connection, the fleet's shared store. */
function processOn(client: RedisClientLike | undefined, warnings: string[] = []) {
  const replayStore =
    client === undefined
      ? undefined
      : redisDpopReplayStore(client, {
          prefix,
          timeoutMs: 200,
          failOpenAfterMs: 0,
          onError: (m) => warnings.push(m),
        });
  return buildApp('express5', fixture.options({ dpop: replayStore === undefined ? true : { replayStore } }));
}

async function call(app: ReturnType<typeof buildApp>, dpop: string) {
  return request(app).get('/api/me').set('authorization', `DPoP ${token}`).set('dpop', dpop);
}

describe('redisDpopReplayStore', () => {
  test('a proof used at one process is refused at another', async () => {
    const [a, b] = [processOn(redisA), processOn(redisB)];
    const used = await proof(key, { htm: 'GET', htu: HTU, token });
    expect((await call(a, used)).status).toBe(200);
    const replayed = await call(b, used);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'the DPoP proof was already used ("jti" replayed)',
    });
    // A fresh proof is fine at either.
    expect((await call(b, await proof(key, { htm: 'GET', htu: HTU, token }))).status).toBe(200);
    // Kept no longer than the proof could be used anyway (iat window + tolerance), as a hash.
    const keys = await keysMatching(redisA, `${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      expect(k).not.toContain(used.split('.')[1]!);
      const ttl = await redisA.pTTL(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(130_000);
    }
  });

  test('without a shared store, each process knows only its own proofs', async () => {
    const [a, b] = [processOn(undefined), processOn(undefined)];
    const used = await proof(key, { htm: 'GET', htu: HTU, token });
    expect((await call(a, used)).status).toBe(200);
    expect((await call(a, used)).status).toBe(401);
    expect((await call(b, used)).status).toBe(200); // the gap the shared store closes
  });

  test('Redis not connected: requests go on, replays to the same process are still refused', async () => {
    const warnings: string[] = [];
    const down = { isReady: false, set: async () => 'OK' } as unknown as RedisClientLike;
    const a = processOn(down, warnings);
    const used = await proof(key, { htm: 'GET', htu: HTU, token });
    expect((await call(a, used)).status).toBe(200);
    expect((await call(a, used)).status).toBe(401);
    expect(warnings.join()).toMatch(/not connected/);
  });

  test('Redis that never answers: the answer comes within the timeout, from the process’s memory', async () => {
    const warnings: string[] = [];
    const stuck = { isReady: true, set: () => new Promise(() => undefined) } as unknown as RedisClientLike;
    const a = processOn(stuck, warnings);
    const started = Date.now();
    expect((await call(a, await proof(key, { htm: 'GET', htu: HTU, token }))).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(warnings.join()).toMatch(/no answer within 200 ms/);
  });

  test('a Redis error is not a 500: the process decides alone', async () => {
    const failing = {
      isReady: true,
      set: async () => {
        throw new Error('READONLY You can not write against a read only replica');
      },
    } as unknown as RedisClientLike;
    const a = processOn(failing, []);
    expect((await call(a, await proof(key, { htm: 'GET', htu: HTU, token }))).status).toBe(200);
  });

  test('bad store options fail at start-up with a TypeError', () => {
    expect(() => redisDpopReplayStore(undefined as never)).toThrow(TypeError);
    expect(() => fixture.options({ dpop: { replayStore: {} as never } })).not.toThrow(); // options only
    expect(() => buildApp('express5', fixture.options({ dpop: { replayStore: {} as never } }))).toThrow(
      new TypeError(
        '"dpop.replayStore" must have an admit(key, expiresAt, now) method (redisDpopReplayStore())',
      ),
    );
  });
});
