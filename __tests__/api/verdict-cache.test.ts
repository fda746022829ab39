/**
 * The verdict cache inside the verifier, on a clock the test moves: a cached verdict answers exactly
 * when a fresh check would (its expiry stands for the time checks, which a hit no longer runs), it
 * dies with the key that verified it, and one-off tokens do not push out a token clients keep sending.
 */
import { describe, expect, test } from '@jest/globals';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import type { PortcullisError } from '../../lib/errors.js';
import { refusalOf } from '../../lib/protocol/bearer-refusal.js';
import { createTokenVerifier, type TokenVerifier } from '../../lib/protocol/token-verifier.js';
import { AUDIENCE, useKeyServer } from '../helpers/key-server.js';

const ks = useKeyServer({ freshKey: true });

/** Two verifiers on one clock: one with the cache (the default), one without. */
function pair(extra: Record<string, unknown> = {}) {
  const clock = { t: 0 };
  const make = (more: Record<string, unknown>) =>
    createTokenVerifier(
      validateBearerOptions(
        { issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE, ...extra, ...more },
        {},
      ),
      () => clock.t,
    );
  return { clock, cached: make({}), fresh: make({ cacheMaxEntries: 0 }) };
}

/** `ok`, or the refusal's reason. */
async function outcome(verifier: TokenVerifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'ok';
  } catch (err) {
    return refusalOf(err)?.reason ?? (err as PortcullisError).code;
  }
}

describe('a cached verdict answers exactly when a fresh check would', () => {
  const cases: [string, Record<string, unknown>, (t0: number) => Record<string, unknown>][] = [
    ['exp, no leeway', { clockTolerance: 0 }, (t0) => ({ iat: t0, exp: t0 + 10 })],
    ['exp, 5 s of leeway', { clockTolerance: 5 }, (t0) => ({ iat: t0, exp: t0 + 10 })],
    ['maxTokenAge, no leeway', { clockTolerance: 0, maxTokenAge: 20 }, (t0) => ({ iat: t0, exp: t0 + 600 })],
    [
      'maxTokenAge, 3 s of leeway',
      { clockTolerance: 3, maxTokenAge: 20 },
      (t0) => ({ iat: t0, exp: t0 + 600 }),
    ],
    ['nbf ahead, then reached', { clockTolerance: 2 }, (t0) => ({ iat: t0, nbf: t0 + 6, exp: t0 + 30 })],
    ['cacheMaxAge before exp', { cacheMaxAge: 8 }, (t0) => ({ iat: t0, exp: t0 + 15 })],
  ];

  test.each(cases)('%s', async (_name, options, claims) => {
    const { clock, cached, fresh } = pair(options);
    const t0 = 1_900_000_000;
    const token = await ks.token(claims(t0));
    const seen: string[] = [];
    // Every quarter second from just before issue to well past every bound, the cache warm throughout.
    for (let ms = (t0 - 1) * 1000 + 125; ms < (t0 + 40) * 1000; ms += 250) {
      clock.t = ms;
      const expected = await outcome(fresh, token);
      expect([ms, await outcome(cached, token)]).toEqual([ms, expected]);
      if (seen.at(-1) !== expected) seen.push(expected);
    }
    expect(seen).toContain('ok'); // each case passes through acceptance...
    expect(seen.length).toBeGreaterThan(1); // ...and through a refusal
  });
});

describe('what a cached verdict never outlives', () => {
  test('the key that verified it', async () => {
    const { clock, cached } = pair({ jwksCooldown: 0 });
    clock.t = Date.now();
    const old = await ks.token();
    await cached.verify(old);
    expect(cached.cached(old)).toBeDefined();
    ks.rotate();
    await cached.verify(await ks.token()); // an unknown kid: the refetch learns the old key is gone
    expect(cached.cached(old)).toBeUndefined();
    expect(await outcome(cached, old)).toBe('kid');
  });
});

describe('what it keeps', () => {
  test('one-off tokens do not push out a token clients keep sending', async () => {
    const { clock, cached } = pair({ cacheMaxEntries: 20 });
    clock.t = Date.now();
    const hot = await ks.token();
    for (let i = 0; i < 3; i++) await cached.verify(hot);
    const scan = await Promise.all(Array.from({ length: 200 }, (_, i) => ks.token({ jti: `once-${i}` })));
    for (const token of scan) await cached.verify(token);
    expect(cached.cached(hot)).toBeDefined();
    expect(scan.filter((token) => cached.cached(token) !== undefined).length).toBeLessThan(20);
  });
});
