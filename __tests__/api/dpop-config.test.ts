/** bearer()'s DPoP options: one TypeError naming the option at start-up, env vars, the replay cache. */
import { describe, expect, test } from '@jest/globals';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import { type BearerOptions, bearer } from '../../lib/index.js';
import { createDpopReplayCache } from '../../lib/protocol/dpop/replay-cache.js';

const base: BearerOptions = {
  issuer: 'https://idp.example.com/',
  jwksUri: 'https://idp.example.com/jwks',
  audience: 'a',
};

describe('DPoP options', () => {
  test.each<[string, Partial<BearerOptions>, string]>([
    [
      'a relative baseURL',
      { baseURL: '/api' },
      '"baseURL" must be an absolute http(s) URL (or the API_BASE_URL environment variable)',
    ],
    [
      'a non-http baseURL',
      { baseURL: 'ftp://api.example.com' },
      '"baseURL" must be an absolute http(s) URL (or the API_BASE_URL environment variable)',
    ],
    [
      'a baseURL with a query',
      { baseURL: 'https://api.example.com/?a=1' },
      '"baseURL" must not contain credentials, a query or a fragment',
    ],
    [
      'a baseURL with credentials',
      { baseURL: 'https://u:p@api.example.com' },
      '"baseURL" must not contain credentials, a query or a fragment',
    ],
    [
      'dpop without baseURL',
      { dpop: true },
      '"baseURL" (or API_BASE_URL) is required with "dpop": proofs are checked against it',
    ],
    [
      'dpop of the wrong shape',
      { baseURL: 'https://api.example.com', dpop: 'yes' as never },
      '"dpop" must be a boolean or an object ({ required, nonce, ... })',
    ],
    [
      'dpop as a list',
      { baseURL: 'https://api.example.com', dpop: [] as never },
      '"dpop" must be a boolean or an object ({ required, nonce, ... })',
    ],
    [
      'a non-boolean required',
      { baseURL: 'https://api.example.com', dpop: { required: 'yes' as never } },
      '"dpop.required" must be a boolean',
    ],
    [
      'a non-boolean nonce',
      { baseURL: 'https://api.example.com', dpop: { nonce: 1 as never } },
      '"dpop.nonce" must be a boolean',
    ],
    [
      'a short nonceSecret',
      { baseURL: 'https://api.example.com', dpop: { nonce: true, nonceSecret: 'short' } },
      '"dpop.nonceSecret" must be a string or bytes of at least 32 bytes',
    ],
    [
      'HS256 for proofs',
      { baseURL: 'https://api.example.com', dpop: { algorithms: ['HS256'] } },
      '"dpop.algorithms" may contain only asymmetric JWS algorithms (no "none", no HMAC)',
    ],
    [
      'none for proofs',
      { baseURL: 'https://api.example.com', dpop: { algorithms: ['none'] } },
      '"dpop.algorithms" may contain only asymmetric JWS algorithms (no "none", no HMAC)',
    ],
    [
      'no proof algorithm',
      { baseURL: 'https://api.example.com', dpop: { algorithms: [] } },
      '"dpop.algorithms" must be a non-empty list of asymmetric JWS algorithms',
    ],
    [
      'a zero iatWindow',
      { baseURL: 'https://api.example.com', dpop: { iatWindow: 0 } },
      '"dpop.iatWindow" must be a number from 1 to 3600',
    ],
    [
      'a tiny replay cache',
      { baseURL: 'https://api.example.com', dpop: { replayCacheMaxEntries: 10 } },
      '"dpop.replayCacheMaxEntries" must be a number from 1000 to 10000000',
    ],
  ])('%s', (_name, extra, message) => {
    expect(() => bearer({ ...base, ...extra })).toThrow(new TypeError(message));
  });

  test('defaults: on with baseURL (not required, no nonce), off without it or with dpop: false', () => {
    const on = validateBearerOptions({ ...base, baseURL: 'https://api.example.com/v1/' }, {});
    expect(on.dpop).toMatchObject({
      required: false,
      nonce: undefined,
      iatWindow: 60,
      htuBase: 'https://api.example.com/v1',
    });
    expect(on.dpop?.algorithms[0]).toBe('ES256');
    expect(validateBearerOptions(base, {}).dpop).toBeUndefined();
    expect(
      validateBearerOptions({ ...base, baseURL: 'https://api.example.com', dpop: false }, {}).dpop,
    ).toBeUndefined();
  });

  test('environment variables fill what the options leave out', () => {
    const config = validateBearerOptions(base, {
      API_BASE_URL: 'https://api.example.com',
      API_DPOP_REQUIRED: 'true',
      API_DPOP_NONCE: 'yes',
      API_DPOP_NONCE_SECRET: 'fleet-nonce-secret-0123456789-abcdef',
      API_DPOP_NONCE_LIFETIME: '120',
      API_DPOP_ALGORITHMS: 'ES256,EdDSA',
      API_DPOP_IAT_WINDOW: '30',
      API_DPOP_REPLAY_CACHE_MAX_ENTRIES: '5000',
    });
    expect(config.baseURL?.href).toBe('https://api.example.com/');
    expect(config.dpop).toMatchObject({
      required: true,
      nonce: { lifetime: 120_000 },
      algorithms: ['ES256', 'EdDSA'],
      iatWindow: 30,
      replayCacheMaxEntries: 5000,
    });
    expect(() => validateBearerOptions(base, { API_DPOP_REQUIRED: 'true' })).toThrow(
      '"baseURL" (or API_BASE_URL) is required with "dpop"',
    );
  });
});

describe('the replay cache', () => {
  test('refuses a key until it expires, then takes it again', () => {
    const cache = createDpopReplayCache(1000);
    expect(cache.admit('a', 2000, 1000)).toBe(true);
    expect(cache.admit('a', 2000, 1999)).toBe(false);
    expect(cache.admit('a', 3000, 2000)).toBe(true);
  });

  test('stays bounded: expired entries are swept, then the oldest live ones evicted', () => {
    const cache = createDpopReplayCache(1000);
    for (let i = 0; i < 5000; i++) cache.admit(`k${i}`, 10_000 + i, 0);
    expect(cache.size).toBeLessThanOrEqual(1000);
    expect(cache.admit('k4999', 20_000, 0)).toBe(false); // the newest are kept
    cache.admit('late', 100_000, 50_000); // everything else has expired by now
    expect(cache.size).toBe(1);
  });
});
