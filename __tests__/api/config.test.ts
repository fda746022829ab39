/** bearer() options: one TypeError naming the option, at start-up; the environment fills the gaps. */
import { describe, expect, test } from '@jest/globals';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import { bearer } from '../../lib/index.js';

const base = { issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/jwks', audience: 'api' };
const secret = 'x'.repeat(32);

describe('bearer() configuration', () => {
  test.each([
    [
      { ...base, audience: undefined },
      '"audience" is required: a string or a list of strings (or the AUDIENCE environment variable)',
    ],
    [
      { ...base, audience: [] },
      '"audience" is required: a string or a list of strings (or the AUDIENCE environment variable)',
    ],
    [{ audience: 'api' }, '"issuerBaseURL" (or "issuer" with "jwksUri") is required (or ISSUER_BASE_URL)'],
    [
      { ...base, jwksUri: undefined },
      '"jwksUri" is required with "issuer" when there is no "issuerBaseURL" (or API_JWKS_URI)',
    ],
    [
      { ...base, issuerBaseURL: 'http://idp.example.com' },
      '"issuerBaseURL" must use https; plain http is allowed only for loopback hosts or with "allowInsecureHttp"',
    ],
    [{ ...base, jwksUri: 'not a url' }, '"jwksUri" must be an absolute URL'],
    [{ ...base, algorithms: ['none'] }, '"algorithms" must not contain "none"'],
    [{ ...base, algorithms: [] }, '"algorithms" must be a non-empty list of JWS algorithms'],
    [{ ...base, algorithms: ['RS1'] }, '"algorithms" contains an unsupported algorithm'],
    [
      { ...base, algorithms: ['HS256'] },
      '"algorithms" may contain HMAC algorithms only together with a "secret"',
    ],
    [{ ...base, secret: 'short' }, '"secret" must be a string or bytes of at least 32 bytes'],
    [{ ...base, clockTolerance: -1 }, '"clockTolerance" must be a number from 0 to 3600'],
    [{ ...base, maxTokenAge: 0 }, '"maxTokenAge" must be a number from 1 to 9007199254740991'],
    [{ ...base, allowJWTTyp: 'yes' }, '"allowJWTTyp" must be a boolean'],
    [{ ...base, realm: '' }, '"realm" must be a non-empty string'],
    [{ ...base, maxTokenLength: 100 }, '"maxTokenLength" must be a number from 256 to 65536'],
    [{ ...base, cacheMaxEntries: -1 }, '"cacheMaxEntries" must be a number from 0 to 1000000'],
    [{ ...base, jwksCooldown: 'soon' }, '"jwksCooldown" must be a number from 0 to 86400'],
    [{ ...base, introspection: 'yes' }, '"introspection" must be true or an object with client credentials'],
    [
      { ...base, introspection: {} },
      '"introspection.clientID" is required (or the API_CLIENT_ID environment variable)',
    ],
    [
      { ...base, introspection: { clientID: 'rs', clientSecret: 's' } },
      '"introspection.endpoint" is required when there is no "issuerBaseURL"',
    ],
    [{ ...base, fetch: 'fetch' }, '"fetch" must be a function'],
  ])('%j', (options, message) => {
    expect(() => validateBearerOptions(options as never, {})).toThrow(new TypeError(message));
  });

  test('loopback http needs no opt-in; other http does', () => {
    expect(() => validateBearerOptions({ ...base, jwksUri: 'http://127.0.0.1:8080/jwks' }, {})).not.toThrow();
    expect(() =>
      validateBearerOptions({ ...base, jwksUri: 'http://keys.internal/jwks', allowInsecureHttp: true }, {}),
    ).not.toThrow();
  });

  test('defaults: asymmetric algorithms, HMAC only with a secret, safe cache bounds', () => {
    const config = validateBearerOptions(base, {});
    expect(config.algorithms).not.toContain('HS256');
    expect(config.algorithms).toContain('RS256');
    expect(config.algorithms).toContain('ES256');
    expect(config).toMatchObject({
      clockTolerance: 5,
      realm: 'api',
      authRequired: true,
      cacheMaxEntries: 10_000,
      cacheMaxAge: 300_000,
      jwksCooldown: 30_000,
      allowJWTTyp: false,
      allowQueryToken: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(validateBearerOptions({ issuer: 'https://i/', audience: 'a', secret }, {}).algorithms).toEqual([
      'HS256',
      'HS384',
      'HS512',
    ]);
  });

  test('every option can come from the environment; explicit options win', () => {
    const config = validateBearerOptions(
      { audience: 'explicit' },
      {
        ISSUER_BASE_URL: 'https://idp.example.com',
        AUDIENCE: 'from-env',
        API_ALGORITHMS: 'RS256,ES256',
        API_CLOCK_TOLERANCE: '10',
        API_MAX_TOKEN_AGE: '600',
        API_ALLOW_JWT_TYP: 'true',
        API_REALM: 'orders',
        API_TOKEN_CACHE_MAX_ENTRIES: '50',
        API_JWKS_COOLDOWN: '5',
        API_ISSUER: 'https://a.example/ https://b.example/',
      },
    );
    expect(config.issuerBaseURL?.href).toBe('https://idp.example.com/');
    expect(config.audiences).toEqual(['explicit']);
    expect(config.algorithms).toEqual(['RS256', 'ES256']);
    expect(config.issuers).toEqual(['https://a.example/', 'https://b.example/']);
    expect(config).toMatchObject({
      clockTolerance: 10,
      maxTokenAge: 600,
      allowJWTTyp: true,
      realm: 'orders',
      cacheMaxEntries: 50,
      jwksCooldown: 5000,
    });
    expect(() => validateBearerOptions(base, { API_CLOCK_TOLERANCE: 'soon' })).toThrow(
      new TypeError('environment variable API_CLOCK_TOLERANCE must be a number'),
    );
  });

  test('app.use(bearer) without the call is caught', () => {
    const fakeReq = { headers: {}, method: 'GET' };
    expect(() => bearer(fakeReq as never)).toThrow(/bearer must be called with its options/);
  });
});
