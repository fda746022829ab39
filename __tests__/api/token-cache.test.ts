/** The verified-token cache keeps serving a share of the tokens when there are more than it holds. */
import { expect, test } from '@jest/globals';
import { createTokenCache } from '../../lib/protocol/token-cache.js';

function hitRate(maxEntries: number, distinct: number, rounds: number): number {
  const cache = createTokenCache<number>(maxEntries);
  const far = Date.now() + 3_600_000;
  let hits = 0;
  let lookups = 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < distinct; i++) {
      const key = `token-${i}`;
      if (round > 2) lookups++;
      if (cache.get(key, Date.now()) !== undefined) {
        if (round > 2) hits++;
      } else cache.set(key, i, far, undefined);
    }
  }
  return hits / lookups;
}

test('while the tokens fit, every repeat is a hit', () => {
  expect(hitRate(1000, 500, 10)).toBe(1);
});

test('with twice as many tokens as entries, round-robin, it still serves a stable share (a plain LRU serves none)', () => {
  const rate = hitRate(1000, 2000, 30);
  expect(rate).toBeGreaterThan(0.3);
  expect(createTokenCache<number>(10).size).toBe(0);
});

test('never more entries than its bound, and a dead oldest entry makes room at once', () => {
  const cache = createTokenCache<number>(3, () => 0.99); // admission would refuse
  const now = Date.now();
  cache.set('a', 1, now - 1, undefined); // already dead
  cache.set('b', 2, now + 60_000, undefined);
  cache.set('c', 3, now + 60_000, undefined);
  cache.set('d', 4, now + 60_000, undefined); // the dead 'a' is evicted for it
  expect(cache.get('d', now)).toBe(4);
  cache.set('e', 5, now + 60_000, undefined); // full of live entries: not admitted this time
  expect(cache.get('e', now)).toBeUndefined();
  expect(cache.size).toBe(3);
});
