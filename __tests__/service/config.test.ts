import { describe, expect, test } from '@jest/globals';
import {
  type ServiceAgentOptions,
  serviceOptionsFromEnv,
  validateServiceOptions,
} from '../../lib/config/service.js';
import { memoryTokenCache, serviceAgent } from '../../lib/index.js';

const base: ServiceAgentOptions = {
  tokenEndpoint: 'https://idp.example.test/oauth/token',
  clientID: 'orders',
  clientSecret: 'secret-0123456789',
};

function fails(options: ServiceAgentOptions, message: string): void {
  expect(() => validateServiceOptions(options)).toThrow(new TypeError(message));
}

describe('serviceAgent configuration', () => {
  test.each<[ServiceAgentOptions, string]>([
    [
      { clientID: 'x', clientSecret: 's' },
      '"issuerBaseURL" or "tokenEndpoint" is required (or the ISSUER_BASE_URL or SERVICE_TOKEN_ENDPOINT environment variable)',
    ],
    [{ ...base, tokenEndpoint: 'not a url' }, '"tokenEndpoint" must be an absolute URL'],
    [
      { ...base, tokenEndpoint: 'http://idp.example.test/token' },
      '"tokenEndpoint" must use https; plain http is allowed only for loopback hosts or with "allowInsecureHttp"',
    ],
    [
      { ...base, issuerBaseURL: 'http://idp.example.test' },
      '"issuerBaseURL" must use https; plain http is allowed only for loopback hosts or with "allowInsecureHttp"',
    ],
    [
      { ...base, clientID: undefined as never },
      '"clientID" is required (or the SERVICE_CLIENT_ID environment variable)',
    ],
    [
      { ...base, clientSecret: undefined as never },
      '"clientSecret" is required for the "clientAuthMethod" "client_secret_basic" (or the SERVICE_CLIENT_SECRET environment variable)',
    ],
    [{ ...base, scope: ['a', ''] }, '"scope" must be a string or a list of non-empty strings'],
    [{ ...base, resource: 'orders' }, '"resource" must be absolute URIs without a fragment'],
    [{ ...base, resource: 'https://a.test/#x' }, '"resource" must be absolute URIs without a fragment'],
    [{ ...base, audience: '' }, '"audience" must be a non-empty string'],
    [{ ...base, tokenParams: { n: 1 as never } }, '"tokenParams" must be an object of string values'],
    [{ ...base, tokenParams: { grant_type: 'password' } }, '"tokenParams" must not set "grant_type"'],
    [{ ...base, refreshRatio: 1 }, '"refreshRatio" must be a number from 0.1 to 0.95'],
    [{ ...base, expiryMargin: -1 }, '"expiryMargin" must be a number from 0 to 3600'],
    [{ ...base, httpTimeout: 0 }, '"httpTimeout" must be a number from 1 to 600000'],
    [{ ...base, retries: 1.5 }, '"retries" must be a whole number from 0 to 10'],
    [
      { ...base, cache: {} as never },
      '"cache" must implement get, set and delete (see the TokenCache contract)',
    ],
    [{ ...base, onEvent: 'log' as never }, '"onEvent" must be a function'],
    [
      { ...base, logger: {} as never },
      '"logger" must be a pino-compatible logger with warn(details, message) (pino() or console will do)',
    ],
  ])('%# %j', (options, message) => fails(options, message));

  test('plain http is fine for loopback, and elsewhere only with allowInsecureHttp', () => {
    expect(
      validateServiceOptions({ ...base, tokenEndpoint: 'http://127.0.0.1:9/token' }).tokenEndpoint?.href,
    ).toBe('http://127.0.0.1:9/token');
    expect(() =>
      validateServiceOptions({
        ...base,
        tokenEndpoint: 'http://idp.internal/token',
        allowInsecureHttp: true,
      }),
    ).not.toThrow();
  });

  test('defaults, and token parameters in a stable order', () => {
    const config = validateServiceOptions({
      ...base,
      scope: 'b a a',
      resource: ['https://r2.test', 'https://r1.test'],
      audience: 'https://aud.test',
      tokenParams: { z: '1', organization: 'o' },
      cache: memoryTokenCache(),
    });
    expect(config.params).toEqual([
      ['scope', 'a b'],
      ['audience', 'https://aud.test'],
      ['resource', 'https://r1.test'],
      ['resource', 'https://r2.test'],
      ['organization', 'o'],
      ['z', '1'],
    ]);
    expect(config).toMatchObject({ refreshRatio: 0.8, expiryMargin: 30, httpTimeout: 5000, retries: 2 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('every option may come from the environment; explicit options win', () => {
    const env = {
      SERVICE_TOKEN_ENDPOINT: 'https://idp.example.test/token',
      ISSUER_BASE_URL: 'https://idp.example.test',
      SERVICE_CLIENT_ID: 'from-env',
      SERVICE_CLIENT_SECRET: 'env-secret',
      SERVICE_AUDIENCE: 'https://aud.test',
      SERVICE_RESOURCE: 'https://r1.test https://r2.test',
      SERVICE_SCOPE: 'orders:read',
      SERVICE_TOKEN_PARAMS: 'organization=o&x=1',
      SERVICE_TOKEN_REFRESH_RATIO: '0.5',
      SERVICE_TOKEN_EXPIRY_MARGIN: '10',
      SERVICE_HTTP_TIMEOUT: '1000',
      SERVICE_TOKEN_REQUEST_RETRIES: '1',
      SERVICE_ALLOW_INSECURE_HTTP: 'false',
    };
    const merged = serviceOptionsFromEnv({ clientID: 'explicit' }, env);
    expect(merged).toEqual({
      tokenEndpoint: env.SERVICE_TOKEN_ENDPOINT,
      issuerBaseURL: env.ISSUER_BASE_URL,
      clientID: 'explicit',
      clientSecret: 'env-secret',
      audience: 'https://aud.test',
      resource: ['https://r1.test', 'https://r2.test'],
      scope: 'orders:read',
      tokenParams: { organization: 'o', x: '1' },
      refreshRatio: 0.5,
      expiryMargin: 10,
      httpTimeout: 1000,
      retries: 1,
      allowInsecureHttp: false,
    });
    expect(() => validateServiceOptions(merged)).not.toThrow();
  });

  test('an explicit issuerBaseURL or tokenEndpoint is never mixed with the other from the environment', () => {
    const env = {
      ISSUER_BASE_URL: 'https://sign-in.example.test',
      SERVICE_TOKEN_ENDPOINT: 'https://other.test/token',
    };
    const merged = serviceOptionsFromEnv({ tokenEndpoint: 'https://idp.example.test/token' }, env);
    expect(merged.tokenEndpoint).toBe('https://idp.example.test/token');
    expect(merged.issuerBaseURL).toBeUndefined();
  });

  test('serviceAgent() reads process.env and fails at start-up, not on a call', () => {
    const saved = process.env.SERVICE_TOKEN_ENDPOINT;
    process.env.SERVICE_TOKEN_ENDPOINT = 'https://idp.example.test/token';
    try {
      expect(() => serviceAgent({ clientID: 'x', clientSecret: 's' })).not.toThrow();
      expect(() => serviceAgent({ clientID: 'x', clientSecret: 's', refreshRatio: 2 })).toThrow(TypeError);
    } finally {
      if (saved === undefined) delete process.env.SERVICE_TOKEN_ENDPOINT;
      else process.env.SERVICE_TOKEN_ENDPOINT = saved;
    }
  });
});
