/**
 * Every `bearer()` option, declared once (see option-spec.ts). Variables are `API_…`, but for the two
 * that mean exactly the same wherever they are read: `ISSUER_BASE_URL` (the IdP) and `AUDIENCE`
 * (express-oauth2-jwt-bearer's name, read by no other product). So `AUTH_REQUIRED=false` for sign-in
 * can never switch off an API's token checks, nor sign-in's `BASE_URL` turn on its DPoP.
 */
import type { BearerOptions } from './bearer.js';
import type { BearerDpopOptions } from './bearer-dpop.js';
import type { IntrospectionOptions } from './bearer-introspection.js';
import type { BearerIssuerOptions } from './bearer-issuers.js';
import { BEARER_MTLS_OPTIONS } from './bearer-mtls.js';
import { clientAuthTable } from './client-auth-options.js';
import type { OptionsTable } from './option-spec.js';

const isTrue = (why: string) => (value: unknown) => (value === true ? why : undefined);

export const BEARER_DPOP_OPTIONS = {
  required: {
    env: 'API_DPOP_REQUIRED',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Refuse Bearer tokens: every request needs a DPoP-bound token and a proof.',
  },
  nonce: {
    env: 'API_DPOP_NONCE',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Demand a server-provided nonce in every proof (RFC 9449 §9).',
  },
  nonceSecret: {
    env: 'API_DPOP_NONCE_SECRET',
    type: 'string | Uint8Array',
    default: 'random, per process',
    doc: 'The key nonces are derived from (32 bytes or more). Give every process of a fleet the same one.',
  },
  nonceLifetime: {
    env: 'API_DPOP_NONCE_LIFETIME',
    envKind: 'number',
    type: 'number',
    default: '300',
    doc: 'Seconds a nonce is current; the previous one is accepted as long again.',
  },
  algorithms: {
    env: 'API_DPOP_ALGORITHMS',
    envKind: 'list',
    type: 'string[]',
    default: 'ES256, ES384, ES512, EdDSA, PS256–512, RS256–512',
    doc: 'Proof algorithms accepted (asymmetric only).',
  },
  iatWindow: {
    env: 'API_DPOP_IAT_WINDOW',
    envKind: 'number',
    type: 'number',
    default: '60',
    doc: "Seconds a proof's `iat` may be from now, either way, plus `clockTolerance`.",
  },
  replayCacheMaxEntries: {
    env: 'API_DPOP_REPLAY_CACHE_MAX_ENTRIES',
    envKind: 'number',
    type: 'number',
    default: '100000',
    doc: 'Proofs (`jti`) remembered to refuse replays.',
  },
  replayStore: {
    type: 'DpopReplayStore',
    default: "this process's memory",
    doc: 'Where seen proofs are kept; on a fleet `redisDpopReplayStore(client)`.',
  },
} as const satisfies OptionsTable<BearerDpopOptions>;

export const INTROSPECTION_OPTIONS = {
  endpoint: {
    env: 'API_INTROSPECTION_ENDPOINT',
    type: 'string | URL',
    default: "the IdP's `introspection_endpoint`",
    doc: 'The introspection endpoint (RFC 7662).',
  },
  ...clientAuthTable('API_', 'this API (for introspection)'),
} as const satisfies OptionsTable<IntrospectionOptions>;

export const BEARER_ISSUER_OPTIONS = {
  issuerBaseURL: {
    type: 'string | URL',
    doc: 'This IdP; its discovery document gives `issuer` and `jwks_uri`. Or give `issuer` and `jwksUri`.',
  },
  issuer: {
    type: 'string | string[]',
    default: 'the discovered issuer',
    doc: 'The expected `iss`, or several.',
  },
  jwksUri: { type: 'string | URL', doc: "This IdP's keys, when there is no discovery." },
  audience: {
    type: 'string | string[]',
    default: 'the top-level `audience`',
    doc: 'The `aud` this API accepts from this IdP.',
  },
  allowedTenants: {
    type: 'string[] | ((tid) => boolean)',
    default: 'the top-level `allowedTenants`',
    doc: 'For a templated issuer (`{tenantid}`): the tenants accepted from this IdP.',
  },
} as const satisfies OptionsTable<BearerIssuerOptions>;

export const BEARER_OPTIONS = {
  issuerBaseURL: {
    env: 'ISSUER_BASE_URL',
    type: 'string | URL',
    doc: 'The IdP; its discovery document gives `issuer` and `jwks_uri`. Or give `issuer` and `jwksUri`.',
  },
  issuer: {
    env: 'API_ISSUER',
    envKind: 'list',
    type: 'string | string[]',
    default: 'the discovered issuer',
    doc: 'The expected `iss`, or several.',
  },
  jwksUri: { env: 'API_JWKS_URI', type: 'string | URL', doc: "The IdP's keys, when there is no discovery." },
  audience: {
    env: 'AUDIENCE',
    envKind: 'list',
    type: 'string | string[]',
    doc: 'The `aud` this API accepts (one of a list). Required.',
  },
  issuers: {
    type: 'BearerIssuerOptions[]',
    doc: "Several IdPs, one entry each. The token's `iss` picks the entry before any network call: a token from an issuer not listed is refused and fetches nothing. Each entry has its own discovery, JWKS cache and cooldown; `req.auth.issuer` names it. Instead of `issuerBaseURL`, `issuer` and `jwksUri`.",
    each: { label: '[]', table: BEARER_ISSUER_OPTIONS },
  },
  allowedTenants: {
    env: 'API_ALLOWED_TENANTS',
    envKind: 'list',
    type: 'string[] | ((tid) => boolean)',
    doc: "For a templated issuer (Entra ID's `/organizations/v2.0`, `/common/v2.0`: metadata `issuer` with `{tenantid}`): the tenants (`tid`) accepted; the expected `iss` is the template with the token's `tid`. Without it, no tenant is accepted.",
  },
  baseURL: {
    env: 'API_BASE_URL',
    type: 'string | URL',
    doc: "The API's public URL as clients call it. DPoP proofs' `htu` is checked against it plus the request path, never the Host header; setting it turns DPoP on.",
  },
  dpop: {
    type: 'boolean | BearerDpopOptions',
    default: 'on (not required, no nonce) when `baseURL` is set',
    doc: 'DPoP (RFC 9449). A DPoP-bound token is never accepted as a Bearer token, whatever this says.',
    fields: BEARER_DPOP_OPTIONS,
    fieldsFromEnv: true,
  },
  profile: {
    env: 'API_PROFILE',
    type: "'fapi2'",
    doc: 'Follow the FAPI 2.0 Security Profile: only sender-constrained tokens (DPoP with `baseURL`, or `mtls`), PS256/ES256/EdDSA, header tokens only, `clockTolerance` 10 to 60 s; a conflicting option is a start-up TypeError naming the rule ([docs/fapi2.md](fapi2.md)).',
  },
  mtls: {
    env: 'API_MTLS',
    envKind: 'boolean',
    type: 'boolean | BearerMtlsOptions',
    default: 'off: a certificate-bound token is refused',
    doc: 'Certificate-bound tokens (RFC 8705 §3): a token with `cnf.x5t#S256` is accepted only from the client certificate it is bound to, that of the TLS connection or of `trustedHeader`. `API_MTLS_TRUSTED_HEADER` or `API_MTLS_REQUIRED` imply it.',
    fields: BEARER_MTLS_OPTIONS,
    fieldsFromEnv: true,
  },
  algorithms: {
    env: 'API_ALGORITHMS',
    envKind: 'list',
    type: 'string[]',
    default: 'every asymmetric one (RS, PS, ES, EdDSA); HMAC ones only with `secret`',
    doc: 'Allowed JWS algorithms. `none` is never accepted.',
  },
  secret: {
    env: 'API_SECRET',
    type: 'string | Uint8Array',
    doc: 'A shared secret (32 bytes or more) for HS256/384/512 tokens. Anyone holding it can mint tokens.',
  },
  clockTolerance: {
    env: 'API_CLOCK_TOLERANCE',
    envKind: 'number',
    type: 'number',
    default: '5',
    doc: 'Seconds of leeway on `exp`, `nbf` and `iat`.',
  },
  maxTokenAge: {
    env: 'API_MAX_TOKEN_AGE',
    envKind: 'number',
    type: 'number',
    doc: 'Refuse tokens issued (`iat`) longer ago than this many seconds.',
  },
  allowJWTTyp: {
    env: 'API_ALLOW_JWT_TYP',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: "Also accept `typ: JWT` or no `typ`, besides RFC 9068's `at+jwt`: Keycloak, Entra ID, Okta and Auth0's default profile issue `JWT`.",
    weakens: isTrue(
      'access tokens with "typ" JWT or none are accepted, so an ID token from the same IdP whose "aud" matches passes as an access token (RFC 9068 §4)',
    ),
  },
  clientIdAsAudience: {
    env: 'API_CLIENT_ID_AS_AUDIENCE',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: "Accept a token without `aud` when its `client_id` is one of `audience` (and `token_use`, if any, is `access`): Amazon Cognito's access tokens carry no `aud`.",
    weakens: isTrue(
      'tokens without "aud" are accepted by their "client_id", which names the client they were issued to, not the API they are for',
    ),
  },
  realm: {
    env: 'API_REALM',
    type: 'string',
    default: "'api'",
    doc: 'The `realm` of `WWW-Authenticate` challenges.',
  },
  authRequired: {
    env: 'API_AUTH_REQUIRED',
    envKind: 'boolean',
    type: 'boolean',
    default: 'true',
    doc: 'When false, a request without a token goes on without `req.auth` (a bad token is still refused).',
    weakens: (value) =>
      value === false
        ? 'requests without a token reach the routes; only their own checks (requireScope, ...) refuse them'
        : undefined,
  },
  allowQueryToken: {
    env: 'API_ALLOW_QUERY_TOKEN',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Also read `?access_token=` (RFC 6750 §2.3).',
    weakens: isTrue('tokens in URLs end up in logs, browser history and Referer headers (RFC 6750 §5.3)'),
  },
  allowBodyToken: {
    env: 'API_ALLOW_BODY_TOKEN',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Also read a parsed urlencoded `req.body.access_token` (RFC 6750 §2.2).',
  },
  maxTokenLength: {
    env: 'API_MAX_TOKEN_LENGTH',
    envKind: 'number',
    type: 'number',
    default: '8192',
    doc: 'Longer tokens are refused before any parsing.',
  },
  permissionsAsScopes: {
    env: 'API_PERMISSIONS_AS_SCOPES',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Count the `permissions` claim (Auth0 RBAC) as scopes.',
  },
  jwksCooldown: {
    env: 'API_JWKS_COOLDOWN',
    envKind: 'number',
    type: 'number',
    default: '30',
    doc: 'Seconds between JWKS refetches caused by unknown `kid`s.',
  },
  jwksCacheMaxAge: {
    env: 'API_JWKS_CACHE_MAX_AGE',
    envKind: 'number',
    type: 'number',
    default: '600',
    doc: 'Seconds after which the JWKS is refreshed in the background.',
  },
  cacheMaxEntries: {
    env: 'API_TOKEN_CACHE_MAX_ENTRIES',
    envKind: 'number',
    type: 'number',
    default: '10000',
    doc: 'Verified tokens remembered (0 turns the cache off). About 1.4 KB each with a 640-byte token, half of it the token: 14 MB when full. Once full, a new token displaces an old one only if sent more often lately.',
  },
  cacheMaxAge: {
    env: 'API_TOKEN_CACHE_MAX_AGE',
    envKind: 'number',
    type: 'number',
    default: '300',
    doc: 'Seconds a verdict is reused at most (never past `exp`).',
  },
  introspection: {
    type: 'boolean | IntrospectionOptions',
    default: 'false',
    doc: 'Validate opaque (non-JWT) tokens at the IdP (RFC 7662); `true` reads the client from `API_CLIENT_ID` and the like.',
    fields: INTROSPECTION_OPTIONS,
  },
  fetch: {
    type: 'FetchLike',
    default: 'globalThis.fetch',
    doc: 'The `fetch` used to reach the IdP. Not with `introspection.tlsClientCertificate`.',
  },
  httpTimeout: {
    env: 'API_HTTP_TIMEOUT',
    envKind: 'number',
    type: 'number',
    default: '5000',
    doc: 'Milliseconds before a call to the IdP is abandoned.',
  },
  allowInsecureHttp: {
    env: 'API_ALLOW_INSECURE_HTTP',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Allow plain http to non-loopback hosts. For test networks only.',
    weakens: isTrue('keys fetched over plain http can be replaced in transit, and then any token passes'),
  },
  logger: {
    type: 'Logger',
    default: 'warnings to console.warn',
    doc: 'A pino-compatible logger: start-up warnings, and why each token was refused (at `info`).',
  },
  onEvent: {
    type: '(event: BearerEvent) => void',
    doc: 'Told of every verdict (`bearer.accepted` with `cached`, `bearer.rejected` with `reason`, `expected`, `received`, `bearer.failed`) and every JWKS fetch and introspection (`idp.…`), as the `portcullis:bearer` diagnostics channel is. No tokens.',
  },
} as const satisfies OptionsTable<BearerOptions>;
