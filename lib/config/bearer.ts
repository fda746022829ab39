/**
 * `bearer()` options, and the config they become: merged with the environment, validated once at
 * start-up (bearer-config.ts: one TypeError naming the option), frozen and fully defaulted.
 * Durations in options are seconds.
 */

import type { KeyObject } from 'node:crypto';
import type { JwsAlgorithm } from '../protocol/algorithms.js';
import type { FetchLike, HttpSettings } from '../protocol/http.js';
import type { AllowedTenants } from '../protocol/issuer-template.js';
import type { Logger } from '../protocol/logger.js';
import type { BearerEvent } from '../protocol/observability/events.js';
import type { BearerDpopConfig, BearerDpopOptions } from './bearer-dpop.js';
import type { BearerIntrospectionConfig, IntrospectionOptions } from './bearer-introspection.js';
import type { BearerIssuerConfig, BearerIssuerOptions } from './bearer-issuers.js';
import type { BearerMtlsConfig, BearerMtlsOptions } from './bearer-mtls.js';
import type { ApiProfile, SecurityProfile } from './fapi2.js';

export interface BearerOptions {
  /** [ISSUER_BASE_URL] The IdP; its discovery document gives `issuer` and `jwks_uri`. */
  issuerBaseURL?: string | URL | undefined;
  /** [API_ISSUER] The expected `iss`, or several (multi-tenant). Overrides the discovered issuer. */
  issuer?: string | string[] | undefined;
  /** [API_JWKS_URI] The IdP's keys, when there is no discovery. */
  jwksUri?: string | URL | undefined;
  /** [AUDIENCE] Required: the `aud` this API accepts (one of a list). */
  audience?: string | string[] | undefined;
  /**
   * Several IdPs, one entry each (`issuerBaseURL` or `issuer` + `jwksUri`, and its `audience`). The
   * token's `iss` picks the entry before any network call: a token from an issuer not listed is refused
   * (`invalid_token`) and makes no request, so a token can never make the API call a URL of its
   * choosing. Each entry has its own discovery, JWKS cache and cooldown, fetched on its first token.
   * `req.auth.issuer` names the issuer. Instead of `issuerBaseURL`, `issuer` and `jwksUri`.
   * @example bearer({ issuers: [{ issuerBaseURL: 'https://sso.corp.example', audience: 'api' },
   *                             { issuerBaseURL: 'https://idp.partner.example', audience: 'api' }] })
   */
  issuers?: readonly BearerIssuerOptions[] | undefined;
  /**
   * [API_ALLOWED_TENANTS] For a templated issuer (Entra ID's `/organizations/v2.0` and `/common/v2.0`,
   * whose metadata `issuer` holds `{tenantid}`): the tenants (`tid`) whose tokens are accepted, or a
   * predicate. The expected `iss` is the template with the token's `tid`. Without it, no tenant's
   * token is accepted: one set of keys signs for every tenant of the IdP.
   */
  allowedTenants?: AllowedTenants | undefined;
  /**
   * [API_BASE_URL] The API's public URL, as clients call it (`https://api.example.com`). DPoP proofs'
   * `htu` is compared with it plus the request's path, never with the `Host` header. Setting it
   * turns DPoP on (with `dpop`'s defaults).
   */
  baseURL?: string | URL | undefined;
  /**
   * DPoP (RFC 9449): `true` or options. @default on (not required, no nonce) when `baseURL` is set;
   * without `baseURL` proofs cannot be checked, so DPoP-bound tokens are refused. `false` turns the
   * DPoP scheme off (bound tokens are still refused).
   */
  dpop?: boolean | BearerDpopOptions | undefined;
  /**
   * [API_PROFILE] `'fapi2'`: follow the FAPI 2.0 Security Profile. Only sender-constrained tokens are
   * accepted: a DPoP-bound token with its proof (set `baseURL`), or a certificate-bound one with
   * `mtls`; a plain Bearer token is `401 invalid_token`. Tokens and proofs signed PS256, ES256 or
   * EdDSA only, tokens in the `Authorization` header only, `clockTolerance` 10 to 60 s (default 10).
   * A conflicting option is a start-up TypeError naming the rule. See docs/fapi2.md.
   * @example bearer({ profile: 'fapi2', issuerBaseURL, audience, baseURL: 'https://api.example.com' })
   * @see https://openid.net/specs/fapi-security-profile-2_0-final.html
   */
  profile?: SecurityProfile | undefined;
  /**
   * [API_MTLS] Certificate-bound access tokens (RFC 8705 §3): a token with `cnf.x5t#S256` is accepted
   * only from the client certificate it is bound to, that of the TLS connection to this process (an
   * https server with `requestCert: true`), or behind a TLS-terminating proxy, of the header named by
   * `trustedHeader`. A token that is not bound is accepted as before, unless `required`.
   * @default off: certificate-bound tokens are refused, as their binding cannot be checked
   * @example bearer({ ..., mtls: true }) // or mtls: { trustedHeader: 'nginx' } behind nginx
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
   */
  mtls?: boolean | BearerMtlsOptions | undefined;
  /**
   * [API_ALGORITHMS] Allowed JWS algorithms. @default every asymmetric one (RS, PS, ES, EdDSA); the
   * HMAC ones when only a `secret` is given. `none` is never accepted.
   */
  algorithms?: string[] | undefined;
  /**
   * [API_SECRET] A shared secret (32 bytes or more) for HS256/384/512 tokens.
   * > [!WARNING] Anyone holding the secret can mint tokens; prefer asymmetric keys.
   */
  secret?: string | Uint8Array | undefined;
  /** [API_CLOCK_TOLERANCE] Seconds of leeway on `exp`, `nbf` and `iat`. @default 5 */
  clockTolerance?: number | undefined;
  /** [API_MAX_TOKEN_AGE] Refuse tokens issued (`iat`) longer ago than this many seconds. */
  maxTokenAge?: number | undefined;
  /**
   * [API_ALLOW_JWT_TYP] Also accept `typ: JWT` or no `typ`, besides RFC 9068's `at+jwt`. @default false
   * > [!WARNING] Lets an ID token signed by the same IdP pass as an access token if its `aud` matches.
   */
  allowJWTTyp?: boolean | undefined;
  /**
   * [API_CLIENT_ID_AS_AUDIENCE] Accept a token that has no `aud` when its `client_id` is one of
   * `audience` (and its `token_use`, if any, is `access`): Amazon Cognito's access tokens carry
   * `client_id` instead of `aud`. A token with an `aud` is still judged by its `aud`. @default false
   * > [!WARNING] `client_id` names the client the token was issued to, not the API it is for.
   */
  clientIdAsAudience?: boolean | undefined;
  /** [API_REALM] The `realm` of `WWW-Authenticate` challenges. @default 'api' */
  realm?: string | undefined;
  /** [API_AUTH_REQUIRED] When false, a request without a token goes on without `req.auth`. @default true */
  authRequired?: boolean | undefined;
  /** [API_ALLOW_QUERY_TOKEN] Also read `?access_token=` (RFC 6750 §2.3). @default false */
  allowQueryToken?: boolean | undefined;
  /** [API_ALLOW_BODY_TOKEN] Also read a parsed urlencoded `req.body.access_token` (§2.2). @default false */
  allowBodyToken?: boolean | undefined;
  /** [API_MAX_TOKEN_LENGTH] Longer tokens are refused before any parsing. @default 8192 */
  maxTokenLength?: number | undefined;
  /** [API_PERMISSIONS_AS_SCOPES] Count the `permissions` claim as scopes. @default false */
  permissionsAsScopes?: boolean | undefined;
  /** [API_JWKS_COOLDOWN] Seconds between JWKS refetches caused by unknown `kid`s. @default 30 */
  jwksCooldown?: number | undefined;
  /** [API_JWKS_CACHE_MAX_AGE] Seconds after which the JWKS is refreshed in the background. @default 600 */
  jwksCacheMaxAge?: number | undefined;
  /**
   * [API_TOKEN_CACHE_MAX_ENTRIES] Verified tokens remembered (0 turns the cache off). An entry costs
   * about 1.4 KB with a 640-byte token (half of it the token itself), so the default holds 14 MB at
   * most, and only with 10,000 distinct tokens in use within `cacheMaxAge`. Once full, a new token
   * displaces an old one only if it was sent more often lately (docs/protecting-apis.md).
   * @default 10000
   */
  cacheMaxEntries?: number | undefined;
  /** [API_TOKEN_CACHE_MAX_AGE] Seconds a verdict is reused at most (never past `exp`). @default 300 */
  cacheMaxAge?: number | undefined;
  /** Validate opaque (non-JWT) tokens at the IdP's introspection endpoint; `true` reads CLIENT_ID etc. */
  introspection?: boolean | IntrospectionOptions | undefined;
  /** The fetch used to reach the IdP (proxies, custom CAs). Not with `introspection.tlsClientCertificate`. @default globalThis.fetch */
  fetch?: FetchLike | undefined;
  /** [API_HTTP_TIMEOUT] Milliseconds before a call to the IdP is abandoned. @default 5000 */
  httpTimeout?: number | undefined;
  /**
   * [API_ALLOW_INSECURE_HTTP] Allow plain http to non-loopback hosts.
   * > [!WARNING] Keys fetched over http can be replaced in transit.
   */
  allowInsecureHttp?: boolean | undefined;
  /**
   * A pino-compatible logger (`pino()`, or `console`): start-up warnings of weakened checks, and why
   * each token was refused (at `info`), with what was expected and what was received.
   * @default warnings to `console.warn`, nothing else
   */
  logger?: Logger | undefined;
  /**
   * Told of every verdict and every call to the IdP: `bearer.accepted` (`cached` when the verdict came
   * from the cache of verified tokens), `bearer.rejected` (`reason`, `expected`, `received`, as the log
   * line has them), `bearer.failed` (the IdP could not be read), and `idp.jwks.…` / `idp.introspection.…`.
   * The same events go to the `portcullis:bearer` diagnostics channel and OpenTelemetry. No event holds
   * a token; a hook that throws is ignored. Runs on every request: keep it quick. See docs/observability.md.
   * @example bearer({ issuerBaseURL, audience, onEvent: (e) => e.type === 'bearer.rejected' && metrics.refused(e.reason) })
   */
  onEvent?: ((event: BearerEvent) => void) | undefined;
}

export interface BearerConfig extends BearerIssuerConfig {
  /** With `issuers`: one config per IdP, picked by the token's `iss`; the top-level four are then unset. */
  readonly issuerConfigs: readonly BearerIssuerConfig[] | undefined;
  readonly baseURL: URL | undefined;
  /** `undefined`: the DPoP scheme is off (and DPoP-bound tokens are refused). */
  readonly dpop: BearerDpopConfig | undefined;
  /** With `profile`: only sender-constrained tokens pass. */
  readonly profile: ApiProfile | undefined;
  /** `undefined`: certificate-bound tokens are refused. */
  readonly mtls: BearerMtlsConfig | undefined;
  readonly algorithms: readonly JwsAlgorithm[];
  readonly secret: KeyObject | undefined;
  readonly clockTolerance: number;
  readonly maxTokenAge: number | undefined;
  readonly allowJWTTyp: boolean;
  readonly clientIdAsAudience: boolean;
  readonly realm: string;
  readonly authRequired: boolean;
  readonly allowQueryToken: boolean;
  readonly allowBodyToken: boolean;
  readonly maxTokenLength: number;
  readonly permissionsAsScopes: boolean;
  /** Milliseconds. */
  readonly jwksCooldown: number;
  /** Milliseconds. */
  readonly jwksCacheMaxAge: number;
  readonly cacheMaxEntries: number;
  /** Milliseconds. */
  readonly cacheMaxAge: number;
  readonly introspection: BearerIntrospectionConfig | undefined;
  readonly http: HttpSettings;
  readonly logger: Logger;
  readonly onEvent: ((event: BearerEvent) => void) | undefined;
}
