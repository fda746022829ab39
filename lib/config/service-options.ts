/**
 * Every `serviceAgent()` option, declared once (see option-spec.ts). Variables are `SERVICE_…`, but
 * `ISSUER_BASE_URL`, which means the same IdP wherever it is read: the sign-in client's secret or
 * timeout never becomes the service's by accident.
 */
import { clientAuthTable } from './client-auth-options.js';
import type { OptionsTable } from './option-spec.js';
import type { ServiceAgentOptions } from './service.js';
import type { ServiceAgentDpopOptions } from './service-dpop.js';

export const SERVICE_DPOP_OPTIONS = {
  key: {
    env: 'SERVICE_DPOP_KEY',
    type: 'CryptoKeyPair | JWK | string | KeyObject',
    default: 'a fresh ES256 key pair per agent, in memory only',
    doc: 'The key pair tokens are bound to. Give every process of a fleet the same one to share tokens.',
  },
  alg: {
    type: 'string',
    default: 'from the key: ES256 (P-256), EdDSA (Ed25519), PS256 (RSA)',
    doc: "The proof's JWS algorithm.",
  },
} as const satisfies OptionsTable<ServiceAgentDpopOptions>;

export const SERVICE_OPTIONS = {
  issuerBaseURL: {
    env: 'ISSUER_BASE_URL',
    type: 'string | URL',
    doc: 'The IdP; the token endpoint comes from discovery. Or give `tokenEndpoint`.',
  },
  tokenEndpoint: {
    env: 'SERVICE_TOKEN_ENDPOINT',
    type: 'string | URL',
    doc: 'The token endpoint, when the IdP has no discovery document. Wins over discovery.',
  },
  ...clientAuthTable('SERVICE_', 'this service'),
  audience: {
    env: 'SERVICE_AUDIENCE',
    type: 'string',
    doc: 'The `audience` token parameter (Auth0, Okta and others).',
  },
  resource: {
    env: 'SERVICE_RESOURCE',
    envKind: 'list',
    type: 'string | string[]',
    doc: 'RFC 8707 resource indicator(s): absolute URIs.',
  },
  scope: { env: 'SERVICE_SCOPE', type: 'string | string[]', doc: 'Scopes to ask for.' },
  tokenParams: {
    env: 'SERVICE_TOKEN_PARAMS',
    envKind: 'query',
    type: 'Record<string, string>',
    doc: 'Extra token request parameters (the variable is a query string, `a=1&b=2`).',
  },
  cache: {
    type: 'TokenCache',
    default: 'an in-process memoryTokenCache() per agent',
    doc: 'Where tokens are kept; `redisTokenCache(client)` shares them across a fleet.',
  },
  refreshRatio: {
    env: 'SERVICE_TOKEN_REFRESH_RATIO',
    envKind: 'number',
    type: 'number',
    default: '0.8',
    doc: "Share of a token's lifetime after which the next call refreshes it in the background.",
  },
  expiryMargin: {
    env: 'SERVICE_TOKEN_EXPIRY_MARGIN',
    envKind: 'number',
    type: 'number',
    default: '30',
    doc: 'Seconds before expiry within which a token is never sent (at most a tenth of its lifetime).',
  },
  httpTimeout: {
    env: 'SERVICE_HTTP_TIMEOUT',
    envKind: 'number',
    type: 'number',
    default: '5000',
    doc: 'Milliseconds per token request before it is abandoned.',
  },
  retries: {
    env: 'SERVICE_TOKEN_REQUEST_RETRIES',
    envKind: 'number',
    type: 'number',
    default: '2',
    doc: 'Retries of a token request after a network error, a 5xx or a 429.',
  },
  tokenExchange: {
    env: 'SERVICE_TOKEN_EXCHANGE',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Enable `onBehalfOf(subjectToken)`: RFC 8693 token exchange for the signed-in user.',
  },
  dpop: {
    env: 'SERVICE_DPOP',
    envKind: 'boolean',
    type: 'boolean | ServiceAgentDpopOptions',
    default: 'false',
    doc: 'DPoP-bound tokens (RFC 9449): a proof on every token request and every call. `SERVICE_DPOP_KEY` implies it.',
    fields: SERVICE_DPOP_OPTIONS,
  },
  profile: {
    env: 'SERVICE_PROFILE',
    type: "'fapi2'",
    doc: 'Follow the FAPI 2.0 Security Profile: `private_key_jwt` or mTLS, DPoP-bound tokens (unless mTLS binds them), PS256/ES256/EdDSA, https only; a conflicting option is a start-up TypeError naming the rule ([docs/fapi2.md](fapi2.md)).',
  },
  allowInsecureHttp: {
    env: 'SERVICE_ALLOW_INSECURE_HTTP',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Allow plain http to non-loopback hosts. For test networks only.',
    weakens: (value) =>
      value === true
        ? 'client secrets and tokens may cross the network unencrypted to non-loopback hosts'
        : undefined,
  },
  fetch: {
    type: 'FetchLike',
    default: 'globalThis.fetch',
    doc: "The `fetch` used for token requests and for `agent.fetch()`. Not with `tlsClientCertificate`, whose calls go through portcullis's own https client.",
  },
  onEvent: {
    type: '(event: AgentEvent) => void',
    doc: 'Told of every `agent.…` event (token fetched, refreshed or failed, cache hit or miss, call retried), as the `portcullis:agent` diagnostics channel is. No secrets.',
  },
  logger: {
    type: 'Logger',
    default: 'warnings to console.warn',
    doc: 'A pino-compatible logger: start-up warnings, and when a shared cache fails or recovers.',
  },
} as const satisfies OptionsTable<ServiceAgentOptions>;
