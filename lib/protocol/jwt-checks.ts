/**
 * The header and claim checks of an RFC 9068 JWT access token, as named steps. They run before the
 * signature is verified (they are cheaper, and a token failing them is refused either way), and
 * the time checks run again on every cache hit. Messages name the check, never a claim's value; the
 * operator's detail (what was expected, what was received) rides on the error as its `refusal`.
 */
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { InvalidTokenError } from '../errors.js';
import { isJwsAlgorithm, type JwsAlgorithm } from './algorithms.js';
import { type BearerRefusal, refuse, shown } from './bearer-refusal.js';
import {
  type AllowedTenants,
  expectedTenantIssuer,
  issuerForTenant,
  TENANT_PLACEHOLDER,
} from './issuer-template.js';

export interface JwtPolicy {
  /** The allowed algorithms, from the options only. */
  readonly algorithms: ReadonlySet<JwsAlgorithm>;
  /** Also accept `typ: JWT` (or no `typ`) besides RFC 9068's `at+jwt`. */
  readonly allowJWTTyp: boolean;
  /** Exact issuers, or templates with `{tenantid}` (Entra ID multi-tenant) checked with `allowedTenants`. */
  readonly issuers: readonly string[];
  /** The tenants a templated issuer's tokens may come from; none accepts none. */
  readonly allowedTenants?: AllowedTenants | undefined;
  readonly audiences: readonly string[];
  /** A token without `aud` may name one of `audiences` in `client_id` instead (Amazon Cognito). */
  readonly clientIdAsAudience?: boolean | undefined;
  /** Seconds of leeway on `exp`, `nbf` and `iat`. */
  readonly clockTolerance: number;
  /** Seconds after `iat` a token is refused, whatever its `exp`. */
  readonly maxTokenAge: number | undefined;
  readonly realm: string | undefined;
}

/** Header parameters we understand if they are listed in `crit` (none: we implement no extension). */
const UNDERSTOOD_CRIT: ReadonlySet<string> = new Set();

function invalid(policy: JwtPolicy, description: string, refusal: BearerRefusal): InvalidTokenError {
  return refuse(new InvalidTokenError(description, { realm: policy.realm }), refusal);
}

const AT_JWT: readonly string[] = ['at+jwt', 'application/at+jwt'];
const AT_JWT_OR_JWT: readonly string[] = [...AT_JWT, 'JWT', '(none)'];

/** `at+jwt` and `application/at+jwt` (RFC 9068 §4); media types compare case-insensitively. */
function checkTyp(header: ProtectedHeaderParameters, policy: JwtPolicy): void {
  const typ: unknown = header.typ;
  // Built only on the way out: the hot path allocates nothing.
  const refused = (description: string) =>
    invalid(policy, description, {
      reason: 'typ',
      expected: policy.allowJWTTyp ? AT_JWT_OR_JWT : AT_JWT,
      received: shown(typ),
    });
  if (typ === undefined) {
    if (policy.allowJWTTyp) return;
    throw refused('the token has no "typ" header (RFC 9068 requires "at+jwt")');
  }
  if (typeof typ !== 'string') throw refused('the token\'s "typ" header is not a string');
  const media = typ.toLowerCase().replace(/^application\//, '');
  if (media === 'at+jwt') return;
  if (policy.allowJWTTyp && media === 'jwt') return;
  throw refused('unexpected "typ" header (RFC 9068 requires "at+jwt")');
}

/** RFC 7515 §4.1.11: a `crit` listing anything we do not implement makes the token unusable. */
function checkCrit(header: ProtectedHeaderParameters): boolean {
  const crit: unknown = header.crit;
  if (crit === undefined) return true;
  if (!Array.isArray(crit) || crit.length === 0) return false;
  return crit.every((name) => typeof name === 'string' && UNDERSTOOD_CRIT.has(name));
}

/**
 * Check the protected header; returns the algorithm. `jku`, `x5u`, `x5c` and `jwk` are ignored on
 * purpose: keys come only from the configured JWKS or secret, never from the token itself.
 */
export function checkHeader(header: ProtectedHeaderParameters, policy: JwtPolicy): JwsAlgorithm {
  const alg: unknown = header.alg;
  const refused = (description: string) =>
    invalid(policy, description, { reason: 'alg', expected: [...policy.algorithms], received: shown(alg) });
  if (typeof alg !== 'string') throw refused('the token has no "alg" header');
  if (!isJwsAlgorithm(alg) || !policy.algorithms.has(alg)) throw refused('the token\'s "alg" is not allowed');
  if (!checkCrit(header)) {
    throw invalid(policy, 'the token has an unsupported "crit" header', {
      reason: 'crit',
      expected: [],
      received: shown(header.crit),
    });
  }
  if (header.kid !== undefined && typeof header.kid !== 'string') {
    throw invalid(policy, 'the token\'s "kid" header is not a string', {
      reason: 'kid',
      received: shown(header.kid),
    });
  }
  checkTyp(header, policy);
  return alg;
}

type TimeReason = 'exp' | 'nbf' | 'iat' | 'max_age';

function numeric(
  payload: JWTPayload,
  claim: 'exp' | 'nbf' | 'iat',
  policy: JwtPolicy,
  now: number,
): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(policy, `the "${claim}" claim is not a number`, timeRefusal(claim, value, policy, now));
  }
  return value;
}

function timeRefusal(reason: TimeReason, received: unknown, policy: JwtPolicy, now: number): BearerRefusal {
  const refusal = { reason, received: shown(received), now, clockTolerance: policy.clockTolerance };
  return reason === 'max_age' ? { ...refusal, expected: policy.maxTokenAge } : refusal;
}

/** `exp`, `nbf`, `iat` and `maxTokenAge` at `now` (seconds). Re-run on every cache hit. */
export function checkTimes(payload: JWTPayload, policy: JwtPolicy, now: number): void {
  const tolerance = policy.clockTolerance;
  const exp = numeric(payload, 'exp', policy, now);
  if (exp === undefined) {
    throw invalid(policy, 'the token has no "exp" claim', {
      ...timeRefusal('exp', exp, policy, now),
      hint: 'the IdP issued a token without "exp", which RFC 9068 requires',
    });
  }
  if (now - tolerance >= exp) {
    throw invalid(policy, 'the token has expired ("exp" check failed)', timeRefusal('exp', exp, policy, now));
  }
  const nbf = numeric(payload, 'nbf', policy, now);
  if (nbf !== undefined && nbf > now + tolerance) {
    throw invalid(
      policy,
      'the token is not valid yet ("nbf" check failed)',
      timeRefusal('nbf', nbf, policy, now),
    );
  }
  const iat = numeric(payload, 'iat', policy, now);
  if (iat !== undefined && iat > now + tolerance) {
    throw invalid(
      policy,
      'the token was issued in the future ("iat" check failed)',
      timeRefusal('iat', iat, policy, now),
    );
  }
  if (policy.maxTokenAge !== undefined && (iat === undefined || now - iat > policy.maxTokenAge + tolerance)) {
    const description =
      iat === undefined
        ? 'the token has no "iat" claim (needed for "maxTokenAge")'
        : 'the token is too old ("maxTokenAge" check failed)';
    throw invalid(policy, description, timeRefusal('max_age', iat, policy, now));
  }
}

/**
 * A templated issuer (`https://login.microsoftonline.com/{tenantid}/v2.0`): `iss` is the template with
 * the token's own `tid`, and that tenant is one `allowedTenants` accepts. False when no template fits.
 */
function checkTenantIssuer(iss: string, payload: JWTPayload, policy: JwtPolicy): boolean {
  for (const template of policy.issuers) {
    if (!template.includes(TENANT_PLACEHOLDER) || issuerForTenant(template, payload['tid']) !== iss) continue;
    const verdict = expectedTenantIssuer(template, payload, policy.allowedTenants);
    if ('issuer' in verdict) return true;
    const allowed = policy.allowedTenants;
    throw invalid(policy, "the token's tenant is not accepted", {
      reason: 'tenant',
      expected:
        allowed === undefined ? [] : typeof allowed === 'function' ? '(allowedTenants predicate)' : allowed,
      received: shown(payload['tid']),
      ...(verdict.refusal === 'no_allowed_tenants'
        ? {
            hint: 'the issuer is templated ({tenantid}) and allowedTenants is not set, so no tenant is accepted: list the tenants (tid) this API serves, or pass a predicate',
          }
        : {}),
    });
  }
  return false;
}

/**
 * `iss` is one of the configured issuers (exact string match, RFC 9068 §4), or a templated issuer's
 * for an allowed tenant. A token's `iss` never matches a template literally.
 */
export function checkIssuer(payload: JWTPayload, policy: JwtPolicy): void {
  const iss = payload.iss;
  if (typeof iss === 'string' && !iss.includes(TENANT_PLACEHOLDER)) {
    if (policy.issuers.includes(iss) || checkTenantIssuer(iss, payload, policy)) return;
  }
  throw invalid(policy, 'unexpected "iss" claim', {
    reason: 'iss',
    expected: policy.issuers,
    received: shown(iss),
  });
}

/**
 * Cognito's access tokens: no `aud`, the app client in `client_id`, `token_use: access`. Only with
 * `clientIdAsAudience`, and only when `aud` is absent (a token with an `aud` is judged by it).
 */
function clientIdAudience(payload: JWTPayload, policy: JwtPolicy): boolean {
  if (policy.clientIdAsAudience !== true || payload.aud !== undefined) return false;
  const clientId: unknown = payload['client_id'];
  const use: unknown = payload['token_use'];
  return (
    typeof clientId === 'string' &&
    policy.audiences.includes(clientId) &&
    (use === undefined || use === 'access')
  );
}

/** `aud` (a string or a list) names one of the configured audiences. */
export function checkAudience(payload: JWTPayload, policy: JwtPolicy): void {
  const aud: unknown = payload.aud;
  const ok =
    typeof aud === 'string'
      ? policy.audiences.includes(aud)
      : (Array.isArray(aud) && aud.some((a) => typeof a === 'string' && policy.audiences.includes(a))) ||
        clientIdAudience(payload, policy);
  if (!ok) {
    throw invalid(policy, 'unexpected "aud" claim', {
      reason: 'aud',
      expected: policy.audiences,
      received: shown(aud),
    });
  }
}

/** Every claim check, in the order a reviewer ticks them off against RFC 9068 §4. */
export function checkClaims(payload: JWTPayload, policy: JwtPolicy, now: number): void {
  checkIssuer(payload, policy);
  checkAudience(payload, policy);
  checkTimes(payload, policy, now);
}
