/**
 * Why `bearer()` refused a request, for the operator: a stable reason code, what the API expected and
 * what the request carried (claim and header values, never the token), and what to do about it.
 *
 * The client sees only what RFC 6750 §3 allows: the `error` code and a short `error_description`
 * naming the check. The operator's detail rides on the thrown error as a non-enumerable `refusal`
 * property, so that `JSON.stringify(err)` and `util.inspect(err)` cannot carry it into a response, and
 * `bearer()` logs it at `info`. The reason codes are the ones events and metrics report too.
 */
import { BearerChallengeError, PortcullisError } from '../errors.js';
import type { Logger } from './logger.js';

/** The stable reason codes of a refusal. */
export type BearerRefusalReason =
  /** No token at all (401 without an error code). */
  | 'missing'
  /** A malformed `Authorization` header, another scheme, or a token in more than one place (400). */
  | 'request'
  | 'too_long'
  /** Not a compact JWS: parts, base64url or JSON. */
  | 'malformed'
  /** Not a JWT, and no introspection to check it with. */
  | 'opaque'
  | 'alg'
  | 'crit'
  | 'kid'
  | 'typ'
  | 'iss'
  /** A templated issuer's token (Entra ID multi-tenant) from a tenant `allowedTenants` does not accept. */
  | 'tenant'
  | 'aud'
  | 'exp'
  | 'nbf'
  | 'iat'
  | 'max_age'
  | 'signature'
  /** Introspection answered `active: false`. */
  | 'inactive'
  /** Introspection says it is a refresh token. */
  | 'token_type'
  /** The DPoP binding or proof (RFC 9449). */
  | 'dpop'
  /** Not sender-constrained (no `cnf`) where a profile requires it (FAPI 2.0). */
  | 'unbound'
  /** The certificate binding (RFC 8705 §3): no client certificate, another one, or an unreadable one. */
  | 'mtls';

/** A value as the log shows it: strings and lists bounded, anything else named by its type. */
export type RefusalValue = string | number | null | readonly string[];

export interface BearerRefusal {
  readonly reason: BearerRefusalReason;
  /** What this API accepts: the configured values, or a bound. */
  readonly expected?: RefusalValue | undefined;
  /** What the request carried: the claim or header value, never the token. */
  readonly received?: RefusalValue | undefined;
  /** For key problems (`kid`, `signature`): the token's `kid` and `alg` headers. */
  readonly kid?: RefusalValue | undefined;
  readonly alg?: RefusalValue | undefined;
  /** For `signature`: how many keys fitted the token's `kid` and `alg`, and none verified it. */
  readonly keysTried?: number | undefined;
  /** For the time checks: this server's clock (seconds since the epoch) and the leeway (seconds). */
  readonly now?: number | undefined;
  readonly clockTolerance?: number | undefined;
  /** What to do about it. */
  readonly hint?: string | undefined;
}

const HINTS: Readonly<Partial<Record<BearerRefusalReason, string>>> = {
  missing: 'the request carried no access token',
  too_long: 'a token longer than maxTokenLength is refused unread',
  malformed: 'the client sent something that is no JWT',
  opaque:
    'the token is opaque: turn on introspection, or have the IdP issue JWT access tokens (Auth0 does when the client asks for an audience)',
  alg: 'the IdP signs with an algorithm this API does not accept: add it to algorithms, or change the IdP',
  crit: 'the token asks for a header extension ("crit") this API does not implement',
  kid: 'no key of the JWKS has this kid: a token from another IdP or environment, or keys rotated within jwksCooldown',
  typ: 'Keycloak, Entra ID, Okta and Auth0 (default profile) issue "typ": "JWT": set allowJWTTyp: true to accept it (it lets an ID token with a matching "aud" through too)',
  iss: 'the token comes from another issuer: check issuerBaseURL or issuer (exact string, trailing slash included)',
  tenant:
    "the issuer is templated ({tenantid}, Entra ID's multi-tenant endpoints): only the tenants (tid) in allowedTenants are accepted; add this one if this API serves it",
  aud: 'the token was issued for another API: the client must ask for this API\'s audience (or resource); if this API should accept it, add its "aud" to the audience option',
  exp: "the client must refresh its token; if fresh tokens are refused, compare this server's clock with the IdP's (clockTolerance)",
  nbf: "the token is not valid yet: compare this server's clock with the IdP's (clockTolerance)",
  iat: "the token was issued in the future: compare this server's clock with the IdP's (clockTolerance)",
  max_age: 'the token is older than maxTokenAge allows',
  signature:
    'no key of the JWKS verifies the signature: a token from another IdP or environment, or a forged one',
  inactive: 'the IdP says the token is not active (expired or revoked)',
  token_type: 'a refresh token was sent where an access token belongs',
  unbound:
    'profile "fapi2" accepts only sender-constrained tokens: the client must ask the IdP for DPoP-bound tokens (or certificate-bound ones, with mtls), and the IdP must bind them',
  mtls: 'the token is certificate-bound (RFC 8705): it is accepted only with the client certificate it was issued to',
};

/** Bound a value from the request for a log line: a junk token must not make it huge. */
export function shown(value: unknown): RefusalValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.length > 100 ? `${value.slice(0, 100)}…` : value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    const list = value.slice(0, 10).map((item: string) => shown(item) as string);
    return value.length > 10 ? [...list, `… ${value.length - 10} more`] : list;
  }
  return `(${Array.isArray(value) ? 'array' : typeof value})`;
}

/**
 * Attach the operator's detail to a refusal: non-enumerable and frozen, so that serialising the
 * error shows only what the client may see. The default hint of the reason is added when none is given.
 */
export function refuse<E extends BearerChallengeError>(err: E, refusal: BearerRefusal): E {
  const hint = refusal.hint ?? HINTS[refusal.reason];
  Object.defineProperty(err, 'refusal', {
    value: Object.freeze(hint === undefined ? { ...refusal } : { ...refusal, hint }),
    enumerable: false,
    configurable: true,
  });
  return err;
}

/** The operator's detail of a refusal, when one is attached. */
export function refusalOf(err: unknown): BearerRefusal | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const refusal = (err as { refusal?: unknown }).refusal;
  return typeof refusal === 'object' && refusal !== null ? (refusal as BearerRefusal) : undefined;
}

function show(value: RefusalValue): string {
  return Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(', ')}]` : JSON.stringify(value);
}

function time(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : `${seconds} (${date.toISOString()})`;
}

/**
 * The log line of a refusal: the client's description, then what was received and expected (values
 * JSON-quoted, so that a crafted claim cannot forge a log line), then the hint.
 */
export function describeRefusal(refusal: BearerRefusal, description: string): string {
  const parts = [`bearer() refused a token (${refusal.reason}): ${description}`];
  const times = refusal.reason === 'exp' || refusal.reason === 'nbf' || refusal.reason === 'iat';
  if (refusal.received !== undefined) {
    const value = refusal.received;
    parts.push(`received ${times && typeof value === 'number' ? time(value) : show(value)}`);
  }
  if (refusal.expected !== undefined) parts.push(`expected ${show(refusal.expected)}`);
  if (refusal.kid !== undefined || refusal.alg !== undefined) {
    parts.push(`kid ${show(refusal.kid ?? null)}, alg ${show(refusal.alg ?? null)}`);
  }
  if (refusal.keysTried !== undefined) parts.push(`${refusal.keysTried} key(s) tried`);
  if (refusal.now !== undefined) {
    parts.push(`now ${time(refusal.now)}, clockTolerance ${refusal.clockTolerance ?? 0} s`);
  }
  const line = parts.join('; ');
  return refusal.hint === undefined ? line : `${line}: ${refusal.hint}`;
}

/**
 * Tell the operator why `bearer()` answered as it did: a refusal at `info` (a missing token or a DPoP
 * nonce challenge at `debug`) with its stable fields; a token that could not be checked
 * because of the IdP at `error`, with the IdP's URL and status. Nothing is built when the level is off.
 */
export function reportRefusal(logger: Logger, err: unknown): void {
  if (err instanceof BearerChallengeError) {
    // A request without a token (every anonymous request) and a nonce challenge (part of the normal
    // DPoP exchange) are routine: `debug`, so that `info` shows the refusals worth reading.
    const routine = err.error === 'use_dpop_nonce' || err.error === undefined;
    const log = routine ? logger.debug : logger.info;
    if (log === undefined) return;
    const refusal = refusalOf(err);
    const details = { ...refusal, status: err.status, error: err.error ?? null };
    const message =
      refusal === undefined
        ? `bearer() refused a token: ${err.error_description}`
        : describeRefusal(refusal, err.error_description);
    log.call(logger, details, message);
  } else if (err instanceof PortcullisError && err.status >= 500 && logger.error !== undefined) {
    const { code, status, idpUrl, idpStatus } = err;
    logger.error({ code, status, idpUrl, idpStatus }, `bearer() could not check a token: ${err.message}`);
  }
}
