/**
 * The verified-token cache's policy, as behaviour: what it keeps, what it turns away, and that a dead
 * entry never answers. No timings (bench/bearer measures those).
 */
import { describe, expect, test } from '@jest/globals';
import { createTokenCache, type TokenCache, tokenHash } from '../../lib/protocol/token-cache.js';

const NOW = 1_800_000_000_000;
const LATER = NOW + 3_600_000;
/** A JWT's shape: every token starts alike (as real ones do), and ends in its own signature. */
const HEAD = 'eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9';
const signature = (name: string | number) => tokenHash(`signature-${name}`).replace(/[+/=]/g, '_');
const key = (name: string | number) => `${HEAD}.eyJzdWIiOiJ1c2VyIn0.${signature(name)}`;

/** What a verifier does with each request: a hit, or a miss that verifies and offers the verdict. */
function request(cache: TokenCache<string>, name: string | number, now = NOW): boolean {
  const token = key(name);
  if (cache.get(token, now) !== undefined) return true;
  cache.set(token, tokenHash(token), String(name), LATER, undefined, now);
  return false;
}

/** Offer a verdict as a verifier does. */
function remember(cache: TokenCache<string>, token: string, value: string, expiresAt: number, now = NOW) {
  cache.set(token, tokenHash(token), value, expiresAt, undefined, now);
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
    remember(cache, key('a'), 'a', NOW + 1000);
    expect(cache.get(key('a'), NOW + 999)).toBe('a');
    expect(cache.get(key('a'), NOW + 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('a verdict already dead when offered is not stored', () => {
    const cache = createTokenCache<string>(2);
    remember(cache, key('a'), 'a', NOW);
    expect(cache.size).toBe(0);
  });

  test('an expired entry always gives way, however often it was used', () => {
    const cache = createTokenCache<string>(1);
    remember(cache, key('hot'), 'hot', NOW + 1000);
    for (let i = 0; i < 14; i++) cache.get(key('hot'), NOW);
    remember(cache, key('new'), 'new', LATER, NOW + 1000); // seen once, but the old one is dead
    expect(cache.get(key('new'), NOW + 1000)).toBe('new');
    expect(cache.get(key('hot'), NOW + 1000)).toBeUndefined();
  });

  test('entries verified by a key that left the JWKS', () => {
    const cache = createTokenCache<string>(10);
    cache.set(key('a'), tokenHash(key('a')), 'a', LATER, 'thumbprint-1', NOW);
    cache.set(key('b'), tokenHash(key('b')), 'b', LATER, 'thumbprint-2', NOW);
    remember(cache, key('c'), 'c', LATER);
    cache.dropKeys(new Set(['thumbprint-1']));
    expect(cache.get(key('a'), NOW)).toBeUndefined();
    expect(cache.get(key('b'), NOW)).toBe('b');
    expect(cache.get(key('c'), NOW)).toBe('c');
  });

  test('a token that differs in one character, at its end or at its start', () => {
    const cache = createTokenCache<string>(10);
    const token = key('a');
    remember(cache, token, 'verdict', LATER);
    expect(cache.get(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, NOW)).toBeUndefined();
    expect(cache.get(`X${token.slice(1)}`, NOW)).toBeUndefined();
    expect(cache.get(token, NOW)).toBe('verdict');
  });

  test('another payload under the same signature (the lookup finds entries by their tail)', () => {
    const cache = createTokenCache<string>(10);
    const signed = `${HEAD}.eyJzdWIiOiJhbGljZSJ9.${signature('a')}`;
    const forged = `${HEAD}.eyJzdWIiOiJtYWxsb3J5In0.${signature('a')}`;
    remember(cache, signed, 'alice', LATER);
    expect(cache.get(forged, NOW)).toBeUndefined();
    expect(cache.get(forged.slice(-32), NOW)).toBeUndefined(); // the tail alone is no token either
    expect(cache.get(signed, NOW)).toBe('alice');
  });
});

describe('tokens that end alike (opaque tokens of some IdPs)', () => {
  const tail = 'x'.repeat(40);
  const first = `first-${tail}`;
  const second = `second-${tail}`;

  test("each answers with its own verdict, never the other's", () => {
    const cache = createTokenCache<string>(10);
    remember(cache, first, 'first', LATER);
    expect(cache.get(second, NOW)).toBeUndefined();
    remember(cache, second, 'second', LATER);
    expect(cache.get(first, NOW) ?? 'miss').not.toBe('second');
    expect(cache.get(second, NOW) ?? 'miss').not.toBe('first');
  });

  test('the one sent more often keeps the place they share', () => {
    const cache = createTokenCache<string>(10);
    remember(cache, first, 'first', LATER);
    for (let i = 0; i < 5; i++) cache.get(first, NOW);
    remember(cache, second, 'second', LATER); // seen once: turned away
    expect(cache.get(first, NOW)).toBe('first');
    expect(cache.get(second, NOW)).toBeUndefined();
    for (let i = 0; i < 10; i++) remember(cache, second, 'second', LATER); // now wanted more
    expect(cache.get(second, NOW)).toBe('second');
    expect(cache.get(first, NOW)).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  test('a dead entry always gives way to a newcomer with the same tail', () => {
    const cache = createTokenCache<string>(10);
    remember(cache, first, 'first', NOW + 1000);
    for (let i = 0; i < 14; i++) cache.get(first, NOW);
    remember(cache, second, 'second', LATER, NOW + 1000);
    expect(cache.get(second, NOW + 1000)).toBe('second');
  });
});
