/**
 * DPoP-bound tokens in a shared cache: a bound token is useless without its key, so the cache key
 * holds the key's thumbprint. Agents with different keys on one Redis never exchange tokens; agents
 * given the same key (a fleet) share one; a Bearer agent never picks up a bound token, nor the reverse.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import type * as jose from 'jose';
import {
  redisTokenCache,
  type ServiceAgent,
  type ServiceAgentOptions,
  serviceAgent,
} from '../../lib/index.js';
import type { FetchLike } from '../../lib/protocol/http.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';
import { connectRedis, type Redis, uniquePrefix } from './fixtures/redis.js';

let idp: TestIdp;
let redis: Redis;
let tokenRequests = 0;
const agents: ServiceAgent[] = [];

const countingFetch: FetchLike = (input, init) => {
  if (String(input instanceof Request ? input.url : input).endsWith('/token')) tokenRequests++;
  return globalThis.fetch(input, init);
};

beforeAll(async () => {
  idp = await startIdp();
  redis = await connectRedis();
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  tokenRequests = 0;
});
afterAll(async () => {
  redis?.destroy(); // undefined when beforeAll failed: its error is the one to read
  await idp?.close();
});

/** Agents of one "fleet": the same client, audience and Redis prefix. */
function fleet(): (dpop: ServiceAgentOptions['dpop']) => ServiceAgent {
  const prefix = uniquePrefix();
  return (dpop) => {
    const agent = serviceAgent({
      issuerBaseURL: idp.issuer,
      clientID: 'service',
      clientSecret: SERVICE_SECRET,
      resource: API_AUDIENCE,
      cache: redisTokenCache(redis, { prefix }),
      fetch: countingFetch,
      ...(dpop === undefined ? {} : { dpop }),
    });
    agents.push(agent);
    return agent;
  };
}

const sharedKey = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as jose.JWK;

test('two agents with keys of their own do not share: one token each', async () => {
  const member = fleet();
  const a = await member(true).getToken();
  const b = await member(true).getToken();
  expect(a.access_token).not.toBe(b.access_token);
  expect(tokenRequests).toBe(2);
});

test('agents given the same key share one token through Redis', async () => {
  const member = fleet();
  const key = sharedKey();
  const a = await member({ key }).getToken();
  // Another process with the same key, as a JSON string (the SERVICE_DPOP_KEY form).
  const b = await member({ key: JSON.stringify(key) }).getToken();
  expect(b.access_token).toBe(a.access_token);
  expect(tokenRequests).toBe(1);
});

test('a Bearer agent and a DPoP agent with the same settings never take each other’s token', async () => {
  const member = fleet();
  const bound = await member({ key: sharedKey() }).getToken();
  const plain = await member(undefined).getToken();
  expect(plain.token_type).toBe('Bearer');
  expect(bound.token_type).toBe('DPoP');
  expect(plain.access_token).not.toBe(bound.access_token);
  expect(tokenRequests).toBe(2);
});
