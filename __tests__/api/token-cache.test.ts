/**
 * The verified-token cache's policy, as behaviour: what it keeps, what it turns away, and that a dead
 * entry never answers. No timings (bench/bearer measures those).
 */
import { describe, expect, test } from '@jest/globals';
import { createTokenCache, type TokenCache, tokenHash } from '../../lib/protocol/token-cache.js';

const NOW = 1_800_000_000_000;
const LATER = NOW + 3_600_000;
const key = (name: string | number) => tokenHash(`token-${name}`);

/** What a verifier does with each request: a hit, or a miss that verifies and offers the verdict. */
function request(cache: TokenCache<string>, name: string | number, now = NOW): boolean {
  const hash = key(name);
  if (cache.get(hash, now) !== undefined) return true;
  cache.set(hash, String(name), LATER, undefined, now);
  return false;
}

function hitRate(maxEntries: number, distinct: number, rounds: number): number {
  const cache = createTokenCache<string>(maxEntries);
  let hits = 0;
  let counted = 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < distinct; i++) {
      const hit = request(cache, i);
      if (round >= 3) {
        counted++;
        if (hit) hits++;
      }
    }
  }
  return hits / counted;
}

describe('what it keeps', () => {
  test('while the tokens fit, every repeat is a hit', () => {
    expect(hitRate(1000, 500, 10)).toBe(1);
  });

  test('twice as many tokens as entries, round-robin: a stable half is served (an LRU would serve none)', () => {
    expect(hitRate(1000, 2000, 20)).toBeGreaterThanOrEqual(0.45);
  });

  test('a scan of one-off tokens does not evict the tokens clients keep sending', () => {
    const cache = createTokenCache<string>(100);
    for (let round = 0; round < 3; round++) for (let hot = 0; hot < 20; hot++) request(cache, `hot-${hot}`);
    for (let once = 0; once < 5000; once++) request(cache, `scan-${once}`); // 50 times the cache
    for (let hot = 0; hot < 20; hot++) expect(cache.get(key(`hot-${hot}`), NOW)).toBe(`hot-${hot}`);
    expect(cache.size).toBe(100);
  });

  test("nor do one-off tokens arriving between a hot token's uses, five times the cache at a time", () => {
    const cache = createTokenCache<string>(1000);
    for (let round = 0; round < 3; round++) for (let hot = 0; hot < 20; hot++) request(cache, `hot-${hot}`);
    let misses = 0;
    for (let block = 0; block < 6; block++) {
      for (let once = 0; once < 5000; once++) request(cache, `scan-${block}-${once}`);
      for (let hot = 0; hot < 20; hot++) if (!request(cache, `hot-${hot}`)) misses++;
    }
    expect(misses).toBe(0);
  });

  test("a newcomer sent more often than what the cache holds takes an old entry's place", () => {
    const cache = createTokenCache<string>(10);
    for (let i = 0; i < 10; i++) request(cache, `old-${i}`);
    expect(request(cache, 'new')).toBe(false); // seen once: no more wanted than the old ones
    expect(request(cache, 'new')).toBe(false); // seen twice: admitted now
    expect(request(cache, 'new')).toBe(true);
    expect(cache.size).toBe(10);
  });

  test('never more entries than its bound, and none at all with a bound of 0', () => {
    const cache = createTokenCache<string>(50);
    for (let round = 0; round < 5; round++) for (let i = 0; i < 500; i++) request(cache, i);
    expect(cache.size).toBe(50);
    const off = createTokenCache<string>(0);
    request(off, 'a');
    expect(request(off, 'a')).toBe(false);
    expect(off.size).toBe(0);
  });
});

describe('what never answers', () => {
  test('an entry from the moment it expires, and it makes room when met', () => {
    const cache = createTokenCache<string>(2);
    cache.set(key('a'), 'a', NOW + 1000, undefined, NOW);
    expect(cache.get(key('a'), NOW + 999)).toBe('a');
    expect(cache.get(key('a'), NOW + 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('a verdict already dead when offered is not stored', () => {
    const cache = createTokenCache<string>(2);
    cache.set(key('a'), 'a', NOW, undefined, NOW);
    expect(cache.size).toBe(0);
  });

  test('an expired entry always gives way, however often it was used', () => {
    const cache = createTokenCache<string>(1);
    cache.set(key('hot'), 'hot', NOW + 1000, undefined, NOW);
    for (let i = 0; i < 14; i++) cache.get(key('hot'), NOW);
    cache.set(key('new'), 'new', LATER, undefined, NOW + 1000); // seen once, but the old one is dead
    expect(cache.get(key('new'), NOW + 1000)).toBe('new');
    expect(cache.get(key('hot'), NOW + 1000)).toBeUndefined();
  });

  test('entries verified by a key that left the JWKS', () => {
    const cache = createTokenCache<string>(10);
    cache.set(key('a'), 'a', LATER, 'thumbprint-1', NOW);
    cache.set(key('b'), 'b', LATER, 'thumbprint-2', NOW);
    cache.set(key('c'), 'c', LATER, undefined, NOW);
    cache.dropKeys(new Set(['thumbprint-1']));
    expect(cache.get(key('a'), NOW)).toBeUndefined();
    expect(cache.get(key('b'), NOW)).toBe('b');
    expect(cache.get(key('c'), NOW)).toBe('c');
  });

  test('a token that differs in one character', () => {
    const cache = createTokenCache<string>(10);
    cache.set(tokenHash('header.payload.signature'), 'verdict', LATER, undefined, NOW);
    expect(cache.get(tokenHash('header.payload.signaturf'), NOW)).toBeUndefined();
  });
});
