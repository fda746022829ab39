import { describe, expect, test } from '@jest/globals';
import { type CachedToken, memoryTokenCache, serviceAgent, type TokenCache } from '../../lib/index.js';
import { CLIENT_ID, CLIENT_SECRET, startTokenServer } from '../helpers/token-server.js';

/**
 * The whole TokenCache contract, in the fewest lines (express-session's SyncStore): a Map with
 * expiry, no lock. If this works, any store that keeps these three promises works.
 */
function tinyCache(): TokenCache & { writes: number } {
  const map = new Map<string, { value: CachedToken; until: number }>();
  return {
    writes: 0,
    async get(key) {
      const entry = map.get(key);
      return entry !== undefined && Date.now() < entry.until ? entry.value : undefined;
    },
    async set(key, value, ttlSeconds) {
      this.writes++;
      map.set(key, { value, until: Date.now() + ttlSeconds * 1000 });
    },
    async delete(key) {
      map.delete(key);
    },
  };
}

const token: CachedToken = { access_token: 'a', token_type: 'Bearer', issued_at: 0, expires_at: 1 };

describe.each([
  ['the tiny test cache', tinyCache],
  ['memoryTokenCache()', memoryTokenCache],
])('TokenCache contract: %s', (_name, make) => {
  test('get after set returns the value; delete removes it; a missing key is undefined', async () => {
    const cache = make();
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', token, 60);
    expect(await cache.get('k')).toEqual(token);
    await cache.delete('k');
    await cache.delete('never-set');
    expect(await cache.get('k')).toBeUndefined();
  });

  test('an entry is gone after its ttl', async () => {
    const cache = make();
    await cache.set('k', token, 0.05);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await cache.get('k')).toBeUndefined();
  });
});

test('the agent works with any cache that keeps the contract, and shares through it', async () => {
  const tokens = await startTokenServer();
  const cache = tinyCache();
  const options = {
    tokenEndpoint: tokens.tokenEndpoint,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    cache,
  };
  const [a, b] = [serviceAgent(options), serviceAgent(options)];
  const first = await a.getToken();
  expect((await b.getToken()).access_token).toBe(first.access_token);
  expect(tokens.requests).toBe(1);
  expect(cache.writes).toBe(1);
  // Different settings, different key: never each other's token.
  const other = serviceAgent({ ...options, scope: 'other' });
  expect((await other.getToken()).access_token).not.toBe(first.access_token);
  await Promise.all([a.close(), b.close(), other.close()]);
  await tokens.close();
});
