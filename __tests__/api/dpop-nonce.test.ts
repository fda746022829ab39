/**
 * Server-provided DPoP nonces (RFC 9449 §9) at bearer(): the first proof without a nonce gets
 * `use_dpop_nonce` and a `DPoP-Nonce`; the retry with it passes; stale, foreign and junk nonces are
 * refused; a nonce about to expire is answered with the next one; a fleet sharing `nonceSecret`
 * accepts one another's nonces.
 */
import { createSecretKey } from 'node:crypto';
import { beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { BearerDpopOptions } from '../../lib/index.js';
import { createDpopNonceSource } from '../../lib/protocol/dpop/nonce-source.js';
import {
  DEFAULT_ALGS as ALGS,
  API_BASE as BASE,
  type DpopKey,
  proof,
  withBoundToken,
} from '../helpers/dpop-client.js';
import { buildApp } from './app.js';

const HTU = `${BASE}/api/me`;
const SECRET = 'fleet-nonce-secret-0123456789-abcdef';
const LIFETIME = 300;

const fixture = withBoundToken();
let key: DpopKey;
let token: string;
beforeAll(() => {
  ({ key, token } = fixture);
});
const options = (dpop: BearerDpopOptions) => fixture.options({ dpop });

function call(app: ReturnType<typeof buildApp>, dpop: string) {
  return request(app).get('/api/me').set('authorization', `DPoP ${token}`).set('dpop', dpop);
}

/** The nonces of the fleet secret, computed as any process of the fleet would. */
const fleet = createDpopNonceSource({
  secret: createSecretKey(Buffer.from(SECRET)),
  lifetime: LIFETIME * 1000,
});

describe('nonce: true', () => {
  test('no nonce → 401 use_dpop_nonce with a DPoP-Nonce; the retry with it → 200', async () => {
    const app = buildApp('express5', options({ nonce: true }));
    const first = await call(app, await proof(key, { htm: 'GET', htu: HTU, token }));
    expect(first.status).toBe(401);
    expect(first.headers['www-authenticate']).toBe(
      `DPoP realm="api", error="use_dpop_nonce", error_description="a DPoP nonce is required", algs="${ALGS}", Bearer realm="api"`,
    );
    expect(first.body).toEqual({ error: 'use_dpop_nonce', error_description: 'a DPoP nonce is required' });
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const retry = await call(app, await proof(key, { htm: 'GET', htu: HTU, token, nonce }));
    expect(retry.status).toBe(200);
    expect(retry.headers['dpop-nonce']).toBeUndefined(); // still current: nothing new to say
    // Another fresh proof with the same nonce passes too; the nonce is not single-use, the jti is.
    expect((await call(app, await proof(key, { htm: 'GET', htu: HTU, token, nonce }))).status).toBe(200);
  });

  test('a junk, stale or foreign nonce → 401 use_dpop_nonce with the current one', async () => {
    const app = buildApp('express5', options({ nonce: true, nonceSecret: SECRET, nonceLifetime: LIFETIME }));
    const stale = fleet.current(Date.now() - 2 * LIFETIME * 1000);
    const foreign = createDpopNonceSource({
      secret: createSecretKey(Buffer.alloc(32, 1)),
      lifetime: LIFETIME * 1000,
    }).current(Date.now());
    for (const nonce of ['junk', stale, foreign]) {
      const res = await call(app, await proof(key, { htm: 'GET', htu: HTU, token, nonce }));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        error: 'use_dpop_nonce',
        error_description: 'the DPoP proof\'s "nonce" is not current',
      });
      expect(res.headers['dpop-nonce']).toBe(fleet.current(Date.now()));
    }
    const numeric = await call(app, await proof(key, { htm: 'GET', htu: HTU, token, claims: { nonce: 42 } }));
    expect(numeric.body.error).toBe('use_dpop_nonce');
  });

  test('the previous nonce still passes, and the answer carries the new one', async () => {
    const app = buildApp('express5', options({ nonce: true, nonceSecret: SECRET, nonceLifetime: LIFETIME }));
    const previous = fleet.current(Date.now() - LIFETIME * 1000);
    const res = await call(app, await proof(key, { htm: 'GET', htu: HTU, token, nonce: previous }));
    expect(res.status).toBe(200);
    expect(res.headers['dpop-nonce']).toBe(fleet.current(Date.now()));
  });

  test('a fleet sharing nonceSecret accepts a nonce handed out by another process', async () => {
    const a = buildApp('express5', options({ nonce: true, nonceSecret: SECRET }));
    const b = buildApp('express4', options({ nonce: true, nonceSecret: SECRET }));
    const nonce = (await call(a, await proof(key, { htm: 'GET', htu: HTU, token }))).headers[
      'dpop-nonce'
    ] as string;
    expect((await call(b, await proof(key, { htm: 'GET', htu: HTU, token, nonce }))).status).toBe(200);
    // Without the shared secret, each process has its own random one.
    const c = buildApp('express5', options({ nonce: true }));
    expect((await call(c, await proof(key, { htm: 'GET', htu: HTU, token, nonce }))).status).toBe(401);
  });

  test('a bad proof is invalid_dpop_proof, not a nonce request; Bearer tokens need no nonce', async () => {
    const app = buildApp('express5', options({ nonce: true }));
    const res = await call(app, await proof(key, { htm: 'POST', htu: HTU, token }));
    expect(res.body.error).toBe('invalid_dpop_proof');
    expect(res.headers['dpop-nonce']).toBeUndefined();
  });
});

describe('the nonce source', () => {
  test('rotates every lifetime, accepting the current and the previous nonce only', () => {
    const source = createDpopNonceSource({ secret: createSecretKey(Buffer.alloc(32, 3)), lifetime: 1000 });
    const n0 = source.current(10_000);
    expect(source.current(10_999)).toBe(n0);
    expect(source.check(n0, 10_500)).toBe('current');
    const n1 = source.current(11_000);
    expect(n1).not.toBe(n0);
    expect(source.check(n0, 11_000)).toBe('previous');
    expect(source.check(n1, 11_000)).toBe('current');
    expect(source.check(n0, 12_000)).toBeUndefined();
    expect(source.check(undefined, 12_000)).toBeUndefined();
    // Going back in time (clock steps) still answers consistently.
    expect(source.current(10_000)).toBe(n0);
  });
});
