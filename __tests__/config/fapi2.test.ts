/**
 * `profile: 'fapi2'` at start-up, for the three products: every rule of lib/config/fapi2-rules.ts, each
 * broken once, is one TypeError naming the option, the rule and the section of the FAPI 2.0 Security
 * Profile; what the profile turns on by itself; and the mTLS predicates the rules rest on.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import type { BearerOptions } from '../../lib/config/bearer.js';
import { validateBearerOptions } from '../../lib/config/bearer.js';
import * as rules from '../../lib/config/fapi2-rules.js';
import type { ServiceAgentOptions } from '../../lib/config/service.js';
import { serviceOptionsFromEnv, validateServiceOptions } from '../../lib/config/service.js';
import type { AuthOptions } from '../../lib/config/signin.js';
import { signinConfig } from '../../lib/config/signin.js';
import type { ClientAuthConfig } from '../../lib/protocol/client-auth.js';
import { FAPI2_RULES, type Fapi2RuleId } from '../../lib/protocol/fapi2.js';

const pem = (key: { privateKey: { export(o: object): string | Buffer } }) =>
  String(key.privateKey.export({ format: 'pem', type: 'pkcs8' }));
const ec256 = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
const ec384 = pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }));
const rsa2048 = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }));
const rsa1024 = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }));

const AUTH: AuthOptions = {
  profile: 'fapi2',
  issuerBaseURL: 'https://idp.example.com',
  baseURL: 'https://app.example.com',
  clientID: 'app',
  clientAssertionSigningKey: ec256,
};
const SERVICE: ServiceAgentOptions = {
  profile: 'fapi2',
  issuerBaseURL: 'https://idp.example.com',
  clientID: 'worker',
  clientAssertionSigningKey: ec256,
};
const BEARER: BearerOptions = {
  profile: 'fapi2',
  issuerBaseURL: 'https://idp.example.com',
  audience: 'https://api.example.com',
  baseURL: 'https://api.example.com',
};

type Env = Record<string, string>;
const auth =
  (options: AuthOptions, env: Env = {}) =>
  () =>
    signinConfig(options, env);
const agent =
  (options: ServiceAgentOptions, env: Env = {}) =>
  () =>
    validateServiceOptions(serviceOptionsFromEnv(options, env));
const api =
  (options: BearerOptions, env: Env = {}) =>
  () =>
    validateBearerOptions(options, env);

/** What breaks a rule, the rule, and the start of the message: the product and the option it names. */
const CONFLICTS: Array<[string, () => unknown, Fapi2RuleId, string]> = [
  [
    'auth: allowInsecureHttp',
    auth({ ...AUTH, allowInsecureHttp: true }),
    'fapi2-tls',
    'auth(): "allowInsecureHttp" is true',
  ],
  [
    'auth: an http baseURL',
    auth({ ...AUTH, baseURL: 'http://app.example.com' }),
    'fapi2-redirect-uri',
    'auth(): "baseURL" is http on "app.example.com"',
  ],
  [
    'auth: clockTolerance 5',
    auth({ ...AUTH, clockTolerance: 5 }),
    'fapi2-clock',
    'auth(): "clockTolerance" is 5',
  ],
  [
    'auth: clockTolerance 120',
    auth({ ...AUTH, clockTolerance: 120 }),
    'fapi2-clock',
    'auth(): "clockTolerance" is 120',
  ],
  [
    'auth: PAR off',
    auth({ ...AUTH, pushedAuthorizationRequests: false }),
    'fapi2-par',
    'auth(): "pushedAuthorizationRequests" is false',
  ],
  [
    'auth: DPoP off, no mTLS',
    auth({ ...AUTH, dpop: false }),
    'fapi2-sender-constrained',
    'auth(): "dpop" is false',
  ],
  [
    'auth: ID tokens RS256',
    auth({ ...AUTH, idTokenSigningAlg: 'RS256' }),
    'fapi2-algorithms',
    'auth(): "idTokenSigningAlg" is "RS256"',
  ],
  [
    'auth: a client secret',
    auth({ ...AUTH, clientAssertionSigningKey: undefined, clientSecret: 's3cret' }),
    'fapi2-client-auth',
    'auth(): "clientSecret" is set',
  ],
  [
    'auth: client_secret_post',
    auth({ ...AUTH, clientAuthMethod: 'client_secret_post' }),
    'fapi2-client-auth',
    'auth(): "clientAuthMethod" is "client_secret_post"',
  ],
  [
    'auth: no credentials',
    auth({ ...AUTH, clientAssertionSigningKey: undefined }),
    'fapi2-client-auth',
    'auth(): "clientAssertionSigningKey" is not set',
  ],
  [
    'auth: CLIENT_SECRET from the environment',
    auth({ ...AUTH, clientAssertionSigningKey: undefined }, { CLIENT_SECRET: 's3cret' }),
    'fapi2-client-auth',
    'auth(): "clientSecret" is set',
  ],
  [
    'auth: an RS256 assertion',
    auth({ ...AUTH, clientAssertionSigningKey: rsa2048, clientAssertionSigningAlg: 'RS256' }),
    'fapi2-algorithms',
    'auth(): "clientAssertionSigningAlg" is "RS256"',
  ],
  [
    'auth: a P-384 key',
    auth({ ...AUTH, clientAssertionSigningKey: ec384 }),
    'fapi2-algorithms',
    'auth(): "clientAssertionSigningKey" signs ES384',
  ],
  [
    'auth: a 1024-bit RSA key',
    auth({ ...AUTH, clientAssertionSigningKey: rsa1024 }),
    'fapi2-key-size',
    'auth(): "clientAssertionSigningKey" is an RSA key of 1024 bits',
  ],
  [
    'auth: a provider without PAR',
    auth({
      profile: 'fapi2',
      baseURL: AUTH.baseURL,
      providers: {
        corp: {
          issuerBaseURL: AUTH.issuerBaseURL,
          clientID: 'app',
          clientAssertionSigningKey: ec256,
          pushedAuthorizationRequests: false,
        },
      },
    }),
    'fapi2-par',
    'auth(): "providers.corp.pushedAuthorizationRequests" is false',
  ],
  [
    'auth: a provider with a secret',
    auth({
      profile: 'fapi2',
      baseURL: AUTH.baseURL,
      providers: { corp: { issuerBaseURL: AUTH.issuerBaseURL, clientID: 'app', clientSecret: 's3cret' } },
    }),
    'fapi2-client-auth',
    'auth(): "providers.corp.clientSecret" is set',
  ],
  [
    'auth: DPoP off for every provider',
    auth({
      profile: 'fapi2',
      baseURL: AUTH.baseURL,
      dpop: false,
      providers: {
        corp: { issuerBaseURL: AUTH.issuerBaseURL, clientID: 'app', clientAssertionSigningKey: ec256 },
      },
    }),
    'fapi2-sender-constrained',
    'auth(): "dpop" is false',
  ],
  [
    'auth: AUTH_PROFILE from the environment',
    auth({ ...AUTH, profile: undefined, dpop: false }, { AUTH_PROFILE: 'fapi2' }),
    'fapi2-sender-constrained',
    'auth(): "dpop" is false',
  ],
  [
    'agent: allowInsecureHttp',
    agent({ ...SERVICE, allowInsecureHttp: true }),
    'fapi2-tls',
    'serviceAgent(): "allowInsecureHttp" is true',
  ],
  [
    'agent: DPoP off, no mTLS',
    agent({ ...SERVICE, dpop: false }),
    'fapi2-sender-constrained',
    'serviceAgent(): "dpop" is false',
  ],
  [
    'agent: a client secret',
    agent({ ...SERVICE, clientAssertionSigningKey: undefined, clientSecret: 's3cret' }),
    'fapi2-client-auth',
    'serviceAgent(): "clientSecret" is set',
  ],
  [
    'agent: SERVICE_CLIENT_SECRET from the environment',
    agent({ ...SERVICE, clientAssertionSigningKey: undefined }, { SERVICE_CLIENT_SECRET: 's3cret' }),
    'fapi2-client-auth',
    'serviceAgent(): "clientSecret" is set',
  ],
  [
    'agent: an EdDSA assertion alg from a P-384 key',
    agent({ ...SERVICE, clientAssertionSigningKey: ec384 }),
    'fapi2-algorithms',
    'serviceAgent(): "clientAssertionSigningKey" signs ES384',
  ],
  [
    'agent: a 1024-bit RSA key',
    agent({ ...SERVICE, clientAssertionSigningKey: rsa1024 }),
    'fapi2-key-size',
    'serviceAgent(): "clientAssertionSigningKey" is an RSA key of 1024 bits',
  ],
  [
    'agent: DPoP proofs ES384',
    agent({ ...SERVICE, dpop: { alg: 'ES384' } }),
    'fapi2-algorithms',
    'serviceAgent(): "dpop.alg" is "ES384"',
  ],
  [
    'agent: a P-384 DPoP key',
    agent({ ...SERVICE, dpop: { key: ec384 } }),
    'fapi2-algorithms',
    'serviceAgent(): "dpop.key" signs ES384',
  ],
  [
    'agent: a 1024-bit RSA DPoP key',
    agent({ ...SERVICE, dpop: { key: rsa1024 } }),
    'fapi2-key-size',
    'serviceAgent(): "dpop.key" is an RSA key of 1024 bits',
  ],
  [
    'agent: SERVICE_PROFILE from the environment',
    agent({ ...SERVICE, profile: undefined, dpop: false }, { SERVICE_PROFILE: 'fapi2' }),
    'fapi2-sender-constrained',
    'serviceAgent(): "dpop" is false',
  ],
  [
    'api: allowInsecureHttp',
    api({ ...BEARER, allowInsecureHttp: true }),
    'fapi2-tls',
    'bearer(): "allowInsecureHttp" is true',
  ],
  [
    'api: query tokens',
    api({ ...BEARER, allowQueryToken: true }),
    'fapi2-header-tokens',
    'bearer(): "allowQueryToken" is true',
  ],
  [
    'api: body tokens',
    api({ ...BEARER, allowBodyToken: true }),
    'fapi2-header-tokens',
    'bearer(): "allowBodyToken" is true',
  ],
  [
    'api: DPoP off, no mTLS',
    api({ ...BEARER, dpop: false }),
    'fapi2-sender-constrained',
    'bearer(): "dpop" is false',
  ],
  [
    'api: no baseURL for DPoP, no mTLS',
    api({ ...BEARER, baseURL: undefined }),
    'fapi2-sender-constrained',
    'bearer(): "baseURL" (API_BASE_URL) is not set',
  ],
  [
    'api: an HMAC secret',
    api({ ...BEARER, secret: 'x'.repeat(32) }),
    'fapi2-algorithms',
    'bearer(): "secret" is set',
  ],
  [
    'api: RS256 tokens',
    api({ ...BEARER, algorithms: ['PS256', 'RS256'] }),
    'fapi2-algorithms',
    'bearer(): "algorithms" has "RS256"',
  ],
  [
    'api: ES384 proofs',
    api({ ...BEARER, dpop: { algorithms: ['ES384'] } }),
    'fapi2-algorithms',
    'bearer(): "dpop.algorithms" has "ES384"',
  ],
  [
    'api: clockTolerance 5',
    api({ ...BEARER, clockTolerance: 5 }),
    'fapi2-clock',
    'bearer(): "clockTolerance" is 5',
  ],
  [
    'api: proofs 70 s ahead',
    api({ ...BEARER, dpop: { iatWindow: 60 } }),
    'fapi2-clock',
    'bearer(): "dpop.iatWindow" (60) and "clockTolerance" (10)',
  ],
  [
    'api: API_PROFILE from the environment',
    api({ ...BEARER, profile: undefined }, { API_PROFILE: 'fapi2', API_ALLOW_QUERY_TOKEN: 'true' }),
    'fapi2-header-tokens',
    'bearer(): "allowQueryToken" is true',
  ],
];

describe('a conflicting option is one start-up TypeError naming it, the rule and its section', () => {
  test.each(CONFLICTS)('%s', (_name, start, rule, message) => {
    const { section } = FAPI2_RULES[rule];
    let thrown: unknown;
    try {
      start();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    const text = (thrown as TypeError).message;
    expect(text.startsWith(message)).toBe(true);
    expect(text).toContain(`(profile "fapi2", rule "${rule}": `);
    expect(text).toContain(`FAPI 2.0 Security Profile §${section})`);
  });

  test('the valid configurations of the table start', () => {
    expect(auth(AUTH)).not.toThrow();
    expect(agent(SERVICE)).not.toThrow();
    expect(api(BEARER)).not.toThrow();
  });

  test('each rule of the tables, taken out, lets a row above start (the safety net: below)', () => {
    const tables = {
      SIGNIN_RULES: rules.SIGNIN_RULES,
      IDP_RULES: rules.IDP_RULES,
      CLIENT_RULES: rules.CLIENT_RULES,
      CLIENT_KEY_RULES: rules.CLIENT_KEY_RULES.slice(1), // [0]: the safety net, below
      SERVICE_RULES: rules.SERVICE_RULES,
      SERVICE_KEY_RULES: rules.SERVICE_KEY_RULES.slice(1), // [0]: the same safety net
      BEARER_RULES: rules.BEARER_RULES,
    };
    const all = Object.entries(tables).flatMap(([table, list]) =>
      list.map((rule, i) => [`${table}[${i}] ${rule.id}`, rule] as const),
    );
    const refused = (start: () => unknown, message: string) => {
      try {
        start();
        return false;
      } catch (err) {
        return (err as Error).message.startsWith(message);
      }
    };
    for (const [label, rule] of all) {
      const mutable = rule as { check: (typeof rule)['check'] };
      const check = mutable.check;
      mutable.check = () => undefined;
      try {
        const rows = CONFLICTS.filter(([, , id]) => id === rule.id);
        const caught = rows.filter(([, start, , message]) => !refused(start, message)).map(([name]) => name);
        expect([label, caught.length > 0]).toEqual([label, true]);
      } finally {
        mutable.check = check;
      }
    }
  });

  test('a client authenticating with a secret is refused even past the option checks (the safety net)', () => {
    const [method] = rules.CLIENT_KEY_RULES;
    const client = { method: 'client_secret_basic' } as ClientAuthConfig;
    expect(method!.check({ options: {}, path: 'providers.corp.', client })).toBe(
      'client authentication would be "client_secret_basic" ("providers.corp.clientAuthMethod"): use "clientAssertionSigningKey" (private_key_jwt) or a TLS client certificate (mTLS) instead',
    );
  });

  test('"profile" takes only "fapi2"', () => {
    expect(auth({ ...AUTH, profile: 'fapi1' as never })).toThrow(
      '"profile" must be "fapi2" (the FAPI 2.0 Security Profile), or unset (or the AUTH_PROFILE environment variable)',
    );
    expect(api(BEARER, { API_PROFILE: 'FAPI2' })).not.toThrow(); // BEARER's own option wins
    expect(api({ ...BEARER, profile: undefined }, { API_PROFILE: 'FAPI2' })).toThrow(/API_PROFILE/);
  });
});

describe('what the profile turns on', () => {
  test("auth(): PAR and DPoP for every provider, and PS256 for an RSA key's assertions", () => {
    const config = signinConfig({ ...AUTH, clientAssertionSigningKey: rsa2048 }, {});
    const provider = config.providers.kind === 'static' ? config.providers.byId.get('default')! : undefined;
    expect(provider).toMatchObject({ pushedAuthorizationRequests: true, dpop: true });
    expect(provider?.client).toMatchObject({ method: 'private_key_jwt', signingAlg: 'PS256' });
    expect(provider?.profile).toBeDefined();
    expect(config.clockTolerance).toBe(60);
    const plain = signinConfig({ ...AUTH, profile: undefined }, {});
    expect(plain.providers.kind === 'static' && plain.providers.byId.get('default')!.profile).toBeUndefined();
  });

  test('serviceAgent(): DPoP, and PS256 for an RSA key', () => {
    const config = agent({ ...SERVICE, clientAssertionSigningKey: rsa2048 })();
    expect(config.dpop?.alg).toBe('ES256');
    expect(config.clientAuth.signingAlg).toBe('PS256');
    expect(config.profile).toBeDefined();
  });

  test("bearer(): the profile's algorithms for tokens and proofs, and its clock", () => {
    const config = api(BEARER)();
    expect(config.algorithms).toEqual(['PS256', 'ES256', 'EdDSA', 'Ed25519']);
    expect(config.dpop).toMatchObject({ algorithms: ['PS256', 'ES256', 'EdDSA', 'Ed25519'], iatWindow: 50 });
    expect(config.clockTolerance).toBe(10);
    expect(config.profile).toEqual({ name: 'fapi2', mtls: false });
  });
});

describe('mTLS counts as soon as its options exist (the predicates the rules use)', () => {
  const tlsClient = { tlsClientCertificate: '-----BEGIN CERTIFICATE-----' };
  test('client authentication is mTLS with an RFC 8705 §2 method', () => {
    expect(rules.usesMtlsClientAuth({ clientAuthMethod: 'tls_client_auth' })).toBe(true);
    expect(rules.usesMtlsClientAuth({ clientAuthMethod: 'self_signed_tls_client_auth' })).toBe(true);
    expect(rules.usesMtlsClientAuth({ clientAuthMethod: 'private_key_jwt' })).toBe(false);
  });

  test('a client with a certificate needs no key, and may turn DPoP off', () => {
    const view = { options: { ...tlsClient, dpop: false }, path: '' };
    for (const rule of [...rules.CLIENT_RULES, ...rules.IDP_RULES]) expect(rule.check(view)).toBeUndefined();
    expect(rules.mtlsBoundClient({ clientAuthMethod: 'tls_client_auth' })).toBe(true);
    expect(rules.mtlsBoundClient({ clientAssertionSigningKey: ec256 })).toBe(false);
  });

  test('an API with mtls may turn DPoP off, or have no baseURL', () => {
    for (const options of [{ mtls: true, dpop: false }, { mtls: { trustedHeader: 'nginx' } }]) {
      for (const rule of rules.BEARER_RULES) expect(rule.check({ options, path: '' })).toBeUndefined();
    }
    expect(rules.apiChecksMtls({ mtls: false })).toBe(false);
  });
});

test('docs/fapi2.md names every rule with its section', () => {
  const guide = readFileSync(new URL('../../docs/fapi2.md', import.meta.url), 'utf8');
  for (const [id, { section }] of Object.entries(FAPI2_RULES)) {
    const row = guide.split('\n').find((line) => line.includes(`| \`${id}\` |`));
    expect([id, row?.includes(`§${section.split(',')[0]}`)]).toEqual([id, true]);
  }
});
