/**
 * One environment, three products: no variable means one thing to one product and another to a
 * second, so that setting one for sign-in (AUTH_REQUIRED=false, BASE_URL, CLIENT_SECRET, ...) or for
 * the service agent never changes what bearer() accepts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import { buildApp } from '../api/app.js';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';
import { ALL_OPTIONS, envSample, type Product } from './tables.js';

/** Variables that mean exactly the same to every product that reads them (API.md). */
const SHARED = new Set(['ISSUER_BASE_URL']);

/** Every variable of sign-in and the service agent but the shared ones, booleans all true or all false. */
function othersThanBearer(boolean: 'true' | 'false'): Map<string, string> {
  const out = new Map<string, string>();
  for (const { product, spec } of ALL_OPTIONS) {
    if (product === 'bearer()' || spec.env === undefined || SHARED.has(spec.env)) continue;
    out.set(spec.env, envSample(spec, boolean));
  }
  return out;
}

describe('environment variables', () => {
  test('each variable is read by one product, but for the shared ones', () => {
    const readers = new Map<string, Set<Product>>();
    for (const { product, spec } of ALL_OPTIONS) {
      if (spec.env === undefined) continue;
      readers.set(spec.env, (readers.get(spec.env) ?? new Set()).add(product));
    }
    const sharedByTwo = [...readers].filter(([, by]) => by.size > 1).map(([name]) => name);
    expect(sharedByTwo.sort()).toEqual([...SHARED].sort());
  });

  test('bearer() reads API_ names, serviceAgent() SERVICE_ names (but for the shared ones and AUDIENCE)', () => {
    for (const { product, spec, path } of ALL_OPTIONS) {
      if (spec.env === undefined || SHARED.has(spec.env)) continue;
      if (product === 'bearer()' && spec.env !== 'AUDIENCE')
        expect([path, spec.env]).toEqual([path, expect.stringMatching(/^API_/)]);
      if (product === 'serviceAgent()')
        expect([path, spec.env]).toEqual([path, expect.stringMatching(/^SERVICE_/)]);
      if (product === 'auth()')
        expect([path, spec.env]).toEqual([path, expect.not.stringMatching(/^(API|SERVICE)_/)]);
    }
  });
});

describe('bearer() with every sign-in and service variable set', () => {
  let ks: KeyServer;
  const saved = { ...process.env };
  beforeAll(async () => {
    ks = await startKeyServer();
  });
  afterAll(() => ks.close());
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  const others = othersThanBearer('false');

  test.each(['true', 'false'] as const)(
    'the validated configuration is the same as with none (booleans %s)',
    (boolean) => {
      const options = { issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE };
      const clean = validateBearerOptions(options, {});
      const polluted = validateBearerOptions(options, Object.fromEntries(othersThanBearer(boolean)));
      expect(polluted).toEqual(clean);
      // The sign-in names the issue was about, spelled out so that a rename cannot hide them.
      for (const name of [
        'AUTH_REQUIRED',
        'BASE_URL',
        'CLOCK_TOLERANCE',
        'ALLOW_INSECURE_HTTP',
        'HTTP_TIMEOUT',
        'CLIENT_ID',
        'CLIENT_SECRET',
      ]) {
        expect(others.has(name)).toBe(true);
      }
    },
  );

  test('an ISSUER_BASE_URL for sign-in does not join an API configured with issuer and jwksUri', () => {
    const options = { issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE };
    const config = validateBearerOptions(options, { ISSUER_BASE_URL: 'https://sso.example.com' });
    expect(config.issuerBaseURL).toBeUndefined();
  });

  test.each(['true', 'false'] as const)(
    'every request gets the same answer (booleans %s)',
    async (boolean) => {
      const good = await ks.token({ scope: 'orders:read' });
      const jwtTyp = await ks.token({ scope: 'orders:read' }, { typ: 'JWT' });
      const bound = await ks.token({ cnf: { jkt: 'x'.repeat(43) } });
      const answers = async () => {
        const app = buildApp('express5', { issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE });
        const out: unknown[] = [];
        for (const [path, auth] of [
          ['/api/me', undefined],
          ['/api/me', `Bearer ${good}`],
          ['/api/me', `Bearer ${jwtTyp}`],
          [`/api/me?access_token=${good}`, undefined],
          ['/api/me', `DPoP ${bound}`],
          ['/api/me', `Bearer ${bound}`],
          ['/api/orders', undefined],
        ] as const) {
          const req = request(app).get(path);
          const res = await (auth === undefined ? req : req.set('authorization', auth));
          out.push([
            path.slice(0, 20),
            auth?.slice(0, 6),
            res.status,
            res.headers['www-authenticate'],
            res.body,
          ]);
        }
        return out;
      };
      const clean = await answers();
      Object.assign(process.env, Object.fromEntries(othersThanBearer(boolean)));
      const polluted = await answers();
      expect(polluted).toEqual(clean);
      // And the clean answers are the strict ones, so that "the same" means "still checked".
      expect(clean[0]).toEqual(['/api/me', undefined, 401, expect.any(String), expect.anything()]);
      expect((clean[2] as unknown[])[2]).toBe(401);
      expect((clean[3] as unknown[])[2]).toBe(401);
    },
  );
});
