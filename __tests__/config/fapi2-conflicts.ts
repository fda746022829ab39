/**
 * The fixtures of config/fapi2.test.ts: valid options of each product under `profile: 'fapi2'`, and one
 * row per way to break a rule of lib/config/fapi2-rules.ts, with the rule and the start of the message.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { BearerOptions } from '../../lib/config/bearer.js';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import type { ServiceAgentOptions } from '../../lib/config/service.js';
import { serviceOptionsFromEnv, validateServiceOptions } from '../../lib/config/service.js';
import type { AuthOptions } from '../../lib/config/signin.js';
import { signinConfig } from '../../lib/config/signin.js';
import type { Fapi2RuleId } from '../../lib/protocol/fapi2.js';

const pem = (key: { privateKey: { export(o: object): string | Buffer } }) =>
  String(key.privateKey.export({ format: 'pem', type: 'pkcs8' }));
export const ec256 = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
const ec384 = pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }));
export const rsa2048 = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }));
const rsa1024 = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }));

export const AUTH: AuthOptions = {
  profile: 'fapi2',
  issuerBaseURL: 'https://idp.example.com',
  baseURL: 'https://app.example.com',
  clientID: 'app',
  clientAssertionSigningKey: ec256,
};
export const SERVICE: ServiceAgentOptions = {
  profile: 'fapi2',
  issuerBaseURL: 'https://idp.example.com',
  clientID: 'worker',
  clientAssertionSigningKey: ec256,
};
export const BEARER: BearerOptions = {
  profile: 'fapi2',
  issuerBaseURL: 'https://idp.example.com',
  audience: 'https://api.example.com',
  baseURL: 'https://api.example.com',
};

type Env = Record<string, string>;
export const auth =
  (options: AuthOptions, env: Env = {}) =>
  () =>
    signinConfig(options, env);
export const agent =
  (options: ServiceAgentOptions, env: Env = {}) =>
  () =>
    validateServiceOptions(serviceOptionsFromEnv(options, env));
export const api =
  (options: BearerOptions, env: Env = {}) =>
  () =>
    validateBearerOptions(options, env);

/** What breaks a rule, the rule, and the start of the message: the product and the option it names. */
export const CONFLICTS: Array<[string, () => unknown, Fapi2RuleId, string]> = [
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
