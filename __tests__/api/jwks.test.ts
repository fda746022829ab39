/**
 * The JWKS store and the verified-token cache, driven through the token verifier with a fake
 * clock (no sleeps): single flight, the unknown-kid cooldown, rotation, outages, garbage, eviction.
 */
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, test } from '@jest/globals';
import type { JWK } from 'jose';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import type { PortcullisError } from '../../lib/errors.js';
import { createTokenVerifier } from '../../lib/protocol/token-verifier.js';
import type { AuthResult } from '../../lib/types/express.js';
import { AUDIENCE, useKeyServer } from '../helpers/key-server.js';

const ks = useKeyServer({ freshKey: true });

/** A verifier on a clock the test moves. Cooldown 30 s, JWKS max age 600 s (the defaults). */
function setup(extra: Record<string, unknown> = {}) {
  let t = Date.now();
  const config = validateBearerOptions(
    { issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE, ...extra },
    {},
  );
  const verifier = createTokenVerifier(config, () => t);
  return {
    verify: async (token: string): Promise<AuthResult> => verifier.verify(token),
    advance: (seconds: number) => {
      t += seconds * 1000;
    },
    verifier,
  };
}

async function failure(p: Promise<unknown>): Promise<PortcullisError> {
  try {
    await p;
  } catch (err) {
    return err as PortcullisError;
  }
  throw new Error('expected a failure');
}

const junkKid = (claims = {}): Promise<string> =>
  ks.token(claims, { kid: `junk-${Math.random().toString(36).slice(2)}` });

describe('JWKS', () => {
  test('is fetched once for many parallel first requests (single flight)', async () => {
    const { verify } = setup();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => ks.token()));
    const results = await Promise.all(tokens.map(verify));
    expect(results.every((r) => r.payload.sub === 'user-1')).toBe(true);
    expect(ks.jwksHits).toBe(1);
  });

  test('a junk-kid flood costs at most one fetch per cooldown window, and every answer is 401', async () => {
    const { verify, advance } = setup();
    await verify(await ks.token());
    expect(ks.jwksHits).toBe(1);
    const junk = await Promise.all(Array.from({ length: 500 }, junkKid));
    const errors = await Promise.all(junk.map((token) => failure(verify(token))));
    expect(errors.every((e) => e.status === 401 && e.code === 'ERR_INVALID_TOKEN')).toBe(true);
    expect(ks.jwksHits).toBe(1);
    advance(31);
    const later = await Promise.all(junk.slice(0, 100).map((token) => failure(verify(token))));
    expect(later.every((e) => e.status === 401)).toBe(true);
    expect(ks.jwksHits).toBe(2);
  });

  test('a rotated key is picked up without restart, once the cooldown allows a refetch', async () => {
    const { verify, advance } = setup();
    await verify(await ks.token());
    const next = ks.rotate();
    const fresh = await ks.token({}, {}, next);
    advance(31);
    expect((await verify(fresh)).payload.sub).toBe('user-1');
    expect(ks.jwksHits).toBe(2);
  });

  test('cached verdicts die with the key that verified them', async () => {
    const { verify, advance } = setup();
    const old = await ks.token();
    await verify(old);
    await verify(old); // cached
    ks.rotate();
    advance(31);
    await failure(verify(await junkKid())); // makes the refetch that learns the key is gone
    expect(ks.jwksHits).toBe(2);
    const err = await failure(verify(old));
    expect(err.message).toMatch(/no key in the JWKS/);
  });

  test('a cached verdict is refused once the token expires', async () => {
    const { verify, advance } = setup({ clockTolerance: 0 });
    const token = await ks.token({ exp: Math.floor(Date.now() / 1000) + 10 });
    await verify(token);
    advance(11);
    expect((await failure(verify(token))).message).toMatch(/"exp" check failed/);
  });

  test('maxTokenAge refuses old tokens, cached or not', async () => {
    const { verify, advance } = setup({ maxTokenAge: 60, clockTolerance: 0 });
    const token = await ks.token();
    await verify(token);
    advance(61);
    expect((await failure(verify(token))).message).toMatch(/"maxTokenAge" check failed/);
    expect((await failure(verify(await ks.token({ iat: undefined })))).message).toMatch(/no "iat"/);
  });

  test('while the JWKS endpoint is down, known keys keep verifying past their max age', async () => {
    const { verify, advance } = setup();
    const longLived = { exp: Math.floor(Date.now() / 1000) + 86400 };
    await verify(await ks.token(longLived));
    ks.mode = 'down';
    advance(3600);
    expect((await verify(await ks.token(longLived))).payload.sub).toBe('user-1');
    // A kid we cannot check because the IdP is unreachable is a 503, not invalid_token.
    advance(31);
    const err = await failure(verify(await junkKid({ exp: Math.floor(Date.now() / 1000) + 86400 })));
    expect(err.status).toBe(503);
  });

  test('cold start with the IdP down is a 503, and recovers on its own', async () => {
    const { verify, advance } = setup();
    ks.mode = 'down';
    const token = await ks.token();
    const err = await failure(verify(token));
    expect(err.status).toBe(503);
    expect(err.code).toBe('ERR_IDP_UNAVAILABLE');
    const hits = ks.jwksHits;
    await failure(verify(token)); // remembered briefly: no new fetch
    expect(ks.jwksHits).toBe(hits);
    ks.mode = 'ok';
    advance(3);
    expect((await verify(token)).payload.sub).toBe('user-1');
  });

  test('a JWKS that answers garbage or 500 is an outage, not a key change', async () => {
    const cold = setup();
    ks.mode = 'garbage';
    expect((await failure(cold.verify(await ks.token()))).status).toBe(503);
    ks.mode = 'error';
    cold.advance(3);
    expect((await failure(cold.verify(await ks.token()))).status).toBe(503);

    ks.mode = 'ok';
    const warm = setup();
    const longLived = { exp: Math.floor(Date.now() / 1000) + 86400 };
    await warm.verify(await ks.token(longLived));
    ks.mode = 'garbage';
    warm.advance(700);
    expect((await warm.verify(await ks.token(longLived))).payload.sub).toBe('user-1');
    expect(ks.jwksHits).toBeGreaterThan(1); // it did try
  });

  test('keys that are not signing keys are never used', async () => {
    const { verify } = setup();
    const key = ks.keys[0]!;
    ks.keys = [{ ...key, publicJwk: { ...key.publicJwk, use: 'enc' } }];
    expect((await failure(verify(await ks.token()))).message).toMatch(/no key in the JWKS/);
  });

  test('ES256, PS256 and EdDSA keys verify too', async () => {
    for (const alg of ['ES256', 'PS256', 'EdDSA', 'ES384', 'ES512']) {
      const key = ks.rotate(alg);
      const { verify } = setup();
      expect((await verify(await ks.token({}, {}, key))).payload.sub).toBe('user-1');
    }
  });

  test('RSA keys shorter than 2048 bits are never used', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak = {
      kid: 'weak',
      alg: 'RS256',
      privateKey,
      publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'weak', alg: 'RS256', use: 'sig' },
    };
    ks.keys = [weak];
    const { verify } = setup();
    expect((await failure(verify(await ks.token({}, {}, weak)))).message).toMatch(
      /signature does not verify/,
    );
  });

  test('algorithms restrict what the JWKS keys may verify', async () => {
    const key = ks.rotate('ES256');
    const { verify } = setup({ algorithms: ['RS256'] });
    expect((await failure(verify(await ks.token({}, {}, key)))).message).toMatch(/"alg" is not allowed/);
  });
});

describe('errors', () => {
  test('never carry the token, in JSON or in inspection output', async () => {
    const { verify } = setup();
    const token = await ks.token({ aud: 'https://other.example' });
    const invalid = await failure(verify(token));
    ks.mode = 'down';
    const cold = setup();
    const unavailable = await failure(cold.verify(await ks.token()));
    for (const err of [invalid, unavailable]) {
      expect(JSON.stringify(err)).not.toContain(token.split('.')[1]);
      expect(inspect(err, { depth: 5, showHidden: true })).not.toContain(token.split('.')[1]);
    }
  });
});
