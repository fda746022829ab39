/** Bad configuration fails at start-up with one TypeError naming the option. */
import { afterEach, describe, expect, test } from '@jest/globals';
import express from 'express';
import { type AuthOptions, auth, requiresAuth } from '../../lib/index.js';

const valid: AuthOptions = {
  issuerBaseURL: 'https://idp.example.com',
  baseURL: 'https://app.example.com',
  clientID: 'app',
  clientSecret: 'secret',
};

const ENV_NAMES = [
  'ISSUER_BASE_URL',
  'BASE_URL',
  'CLIENT_ID',
  'CLIENT_SECRET',
  'RESPONSE_MODE',
  'IDP_LOGOUT',
  'HTTP_TIMEOUT',
];
afterEach(() => {
  for (const name of ENV_NAMES) delete process.env[name];
});

describe('auth() configuration', () => {
  test('valid options give a middleware', () => {
    expect(typeof auth(valid)).toBe('function');
  });

  test.each<[string, Partial<AuthOptions> | Record<string, unknown>, string]>([
    [
      'no issuer',
      { issuerBaseURL: undefined },
      '"issuerBaseURL" is required (or the ISSUER_BASE_URL environment variable)',
    ],
    ['a relative issuer', { issuerBaseURL: '/idp' }, '"issuerBaseURL" must be an absolute URL'],
    [
      'a plain-http issuer on a public host',
      { issuerBaseURL: 'http://idp.example.com' },
      '"issuerBaseURL" must use https; plain http is allowed only for loopback hosts or with "allowInsecureHttp"',
    ],
    [
      'an issuer with credentials',
      { issuerBaseURL: 'https://u:p@idp.example.com' },
      '"issuerBaseURL" must not contain credentials',
    ],
    ['no baseURL', { baseURL: undefined }, '"baseURL" is required (or the BASE_URL environment variable)'],
    [
      'a baseURL with a query',
      { baseURL: 'https://app.example.com/?x=1' },
      '"baseURL" must not have a query or fragment',
    ],
    [
      'no clientID',
      { clientID: undefined },
      '"clientID" is required (or the CLIENT_ID environment variable)',
    ],
    [
      'no secret',
      { clientSecret: undefined },
      '"clientSecret" is required for the "clientAuthMethod" "client_secret_basic" (or the CLIENT_SECRET environment variable)',
    ],
    [
      'an unknown auth method',
      { clientAuthMethod: 'tls' },
      '"clientAuthMethod" must be one of client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth, self_signed_tls_client_auth',
    ],
    [
      'private_key_jwt without a key',
      { clientAuthMethod: 'private_key_jwt' },
      '"clientAssertionSigningKey" is required for the "clientAuthMethod" "private_key_jwt"',
    ],
    [
      'a signing key that is not a key',
      { clientAssertionSigningKey: 'not a key' },
      '"clientAssertionSigningKey" must be a private JWK, a PKCS#8 PEM or a private KeyObject',
    ],
    [
      'a reserved authorization parameter',
      { authorizationParams: { state: 'fixed' } },
      '"authorizationParams.state" is set by portcullis and cannot be overridden',
    ],
    [
      'a scope without openid',
      { authorizationParams: { scope: 'profile' } },
      '"authorizationParams.scope" must include "openid"',
    ],
    [
      'an unknown response_mode',
      { authorizationParams: { response_mode: 'fragment' } },
      '"authorizationParams.response_mode" must be one of "query", "form_post", "jwt", "query.jwt", "form_post.jwt"',
    ],
    [
      'a route that is not a path',
      { routes: { callback: 'callback' } },
      '"routes.callback" must be a path starting with "/"',
    ],
    ['a negative timeout', { httpTimeout: -1 }, '"httpTimeout" must be a number from 1 to 120000'],
    [
      'an HMAC ID token algorithm',
      { idTokenSigningAlg: 'HS256' },
      '"idTokenSigningAlg" must be an asymmetric JWS algorithm',
    ],
    ['a non-function afterCallback', { afterCallback: 'yes' }, '"afterCallback" must be a function'],
    ['a non-boolean idpLogout', { idpLogout: 'yes' }, '"idpLogout" must be a boolean'],
    [
      'a refreshLock without lock()',
      { refreshLock: {} },
      '"refreshLock" must have a lock(key, ttlMs) method, as redisTokenCache(client) has',
    ],
  ])('%s', (_name, patch, message) => {
    expect(() => auth({ ...valid, ...patch } as AuthOptions)).toThrow(new TypeError(message));
  });

  test('plain http is accepted for loopback issuers and with allowInsecureHttp', () => {
    for (const issuerBaseURL of ['http://localhost:4000', 'http://127.0.0.1:4000', 'http://[::1]:4000']) {
      expect(() => auth({ ...valid, issuerBaseURL })).not.toThrow();
    }
    expect(() =>
      auth({ ...valid, issuerBaseURL: 'http://idp.internal', allowInsecureHttp: true }),
    ).not.toThrow();
  });

  test('every option can come from the environment', () => {
    process.env['ISSUER_BASE_URL'] = 'https://idp.example.com';
    process.env['BASE_URL'] = 'https://app.example.com';
    process.env['CLIENT_ID'] = 'app';
    process.env['CLIENT_SECRET'] = 'secret';
    expect(typeof auth()).toBe('function');
    process.env['RESPONSE_MODE'] = 'fragment';
    expect(() => auth()).toThrow(
      '"authorizationParams.response_mode" must be one of "query", "form_post", "jwt", "query.jwt", "form_post.jwt"',
    );
    delete process.env['RESPONSE_MODE'];
    process.env['IDP_LOGOUT'] = 'maybe';
    expect(() => auth()).toThrow('environment variable IDP_LOGOUT must be true or false');
    delete process.env['IDP_LOGOUT'];
    process.env['HTTP_TIMEOUT'] = 'soon';
    expect(() => auth()).toThrow('environment variable HTTP_TIMEOUT must be a number');
  });

  test('app.use(auth) without calling it is caught', () => {
    const fakeReq = { headers: {}, method: 'GET', url: '/' };
    expect(() => auth(fakeReq as unknown as AuthOptions)).toThrow(
      'auth() must be called with its options: app.use(auth({ ... })), not app.use(auth)',
    );
    expect(() => requiresAuth(fakeReq as never)).toThrow('requiresAuth() must be called');
  });

  test('a missing express-session is reported in words at the first request', async () => {
    const app = express();
    app.use(auth(valid));
    app.get('/', (_req, res) => res.send('ok'));
    let message = '';
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      message = err.message;
      res.status(500).end();
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as import('node:net').AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(500);
      expect(message).toBe(
        'express-session must be mounted before auth(): app.use(session({ ... })) comes first',
      );
    } finally {
      server.close();
    }
  });
});

describe('known IdP quirks at start-up', () => {
  test('Google and offline_access: one warning that says what to ask for instead', () => {
    const warnings: string[] = [];
    const logger = { warn: (_details: object, message: string) => warnings.push(message) };
    auth({ ...valid, issuerBaseURL: 'https://accounts.google.com', logger });
    expect(warnings).toEqual([]);
    auth({
      ...valid,
      issuerBaseURL: 'https://accounts.google.com',
      authorizationParams: { scope: 'openid email offline_access' },
      logger,
    });
    expect(warnings).toEqual([
      "auth(): Google refuses the scope offline_access (invalid_scope): drop it, and ask for a refresh token with authorizationParams: { access_type: 'offline', prompt: 'consent' }",
    ]);
    auth({ ...valid, authorizationParams: { scope: 'openid offline_access' }, logger });
    expect(warnings).toHaveLength(1);
  });
});
