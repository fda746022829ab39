/**
 * Why `auth()` refused a callback or a back-channel logout token, for the operator: a stable reason
 * code and, for a claim check, what was expected and what the token carried (claim and header
 * values, never the token). A `nonce`, `state` or a hash of either (`c_hash`, `s_hash`, `at_hash`)
 * is a credential of the login: its check is named, its values never are.
 *
 * The detail rides on the thrown PortcullisError under a private symbol, non-enumerable, so that
 * serialising the error shows nothing more than before; events and metrics read it with
 * `signinRefusal(err)`, which falls back on the error's `code` where no check attached one.
 */
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import { PortcullisError, type PortcullisErrorCode } from '../errors.js';
import { type RefusalValue, shown } from './bearer-refusal.js';

/** The stable reason codes of a refused callback or logout token. */
export type SigninRefusalReason =
  /** The callback has no `state`. */
  | 'state_missing'
  /** A `state` this app did not issue, or that was used already or has expired. */
  | 'state'
  /** The login was started in another browser, or this browser lost its login cookie. */
  | 'browser'
  /** A malformed callback or logout request (a parameter twice, no `logout_token`, a bad body). */
  | 'request'
  /** No such provider (any more). */
  | 'provider'
  /** The answer came at another provider's path, or names another provider's issuer (RFC 9700 §4.4). */
  | 'mix_up'
  /** The IdP's signed authorization response (JARM) fails its check, or a plain one came instead. */
  | 'jarm'
  /** The IdP answered the authorization request with an error (`error`: `access_denied`…). */
  | 'authorization_error'
  /** The token endpoint refused the code (`error`: `invalid_grant`…). */
  | 'token_error'
  /** The IdP could not be reached, or its answer was unusable (discovery, token endpoint, JWKS). */
  | 'idp_unavailable'
  // ID token and logout token checks (OpenID Connect Core §3.1.3.7, Back-Channel Logout §2.6)
  | 'iss'
  | 'aud'
  | 'azp'
  | 'nonce'
  | 'exp'
  | 'nbf'
  | 'iat'
  | 'auth_time'
  | 'c_hash'
  | 's_hash'
  | 'at_hash'
  | 'sub'
  | 'alg'
  | 'kid'
  | 'signature'
  /** Not a JWT, a claim of the wrong type, or no ID token at all. */
  | 'malformed'
  /** A templated issuer's user from a tenant `allowedTenants` does not accept. */
  | 'tenant'
  /** A logout token without the back-channel logout event, or without `sid` and `sub`, or `jti`. */
  | 'events'
  | 'jti'
  /** A logout token whose `jti` was used already. */
  | 'replay'
  /** DPoP is on and the tokens came unbound, or the login's key is unusable. */
  | 'dpop'
  | 'userinfo'
  /** `afterCallback` refused the user. */
  | 'app'
  | 'session'
  | 'error';

export interface SigninRefusal {
  readonly reason: SigninRefusalReason;
  /** What this app expected: the configured value, or a bound. */
  readonly expected?: RefusalValue | undefined;
  /** What the token or request carried: a claim or header value, never a token or a login secret. */
  readonly received?: RefusalValue | undefined;
  /** For the time checks: this server's clock, seconds since the epoch. */
  readonly now?: number | undefined;
}

const REFUSAL = Symbol('portcullis.signinRefusal');

/** Claims whose values are the login's secrets (or hashes of them): named, never shown. */
const SECRET_CLAIMS = new Set(['nonce', 'c_hash', 's_hash', 'at_hash']);

/** Attach the operator's detail to `err`: non-enumerable, so `JSON.stringify(err)` is unchanged. */
export function withRefusal<E extends PortcullisError>(err: E, refusal: SigninRefusal): E {
  const secret = SECRET_CLAIMS.has(refusal.reason);
  const value: SigninRefusal = secret ? { reason: refusal.reason } : refusal;
  Object.defineProperty(err, REFUSAL, { value: Object.freeze(value), enumerable: false });
  return err;
}

const BY_CODE: Readonly<Partial<Record<PortcullisErrorCode, SigninRefusalReason>>> = {
  ERR_STATE_MISSING: 'state_missing',
  ERR_STATE_MISMATCH: 'state',
  ERR_CALLBACK_INVALID: 'request',
  ERR_BAD_REQUEST: 'request',
  ERR_BODY_TOO_LARGE: 'request',
  ERR_UNKNOWN_PROVIDER: 'provider',
  ERR_ISSUER_MISMATCH: 'iss',
  ERR_AUTHORIZATION_RESPONSE: 'authorization_error',
  ERR_JARM_INVALID: 'jarm',
  ERR_JARM_MISSING: 'jarm',
  ERR_OAUTH_RESPONSE: 'token_error',
  ERR_IDP_UNAVAILABLE: 'idp_unavailable',
  ERR_DISCOVERY_FAILED: 'idp_unavailable',
  ERR_ID_TOKEN_INVALID: 'malformed',
  ERR_DPOP_NOT_BOUND: 'dpop',
  ERR_DPOP_PROOF_FAILED: 'dpop',
  ERR_USERINFO_FAILED: 'userinfo',
  ERR_LOGIN_REFUSED: 'app',
  ERR_SESSION_STORE: 'session',
};

/** Why `err` refused a callback or logout token: the attached detail, else its code's reason. */
export function signinRefusal(err: unknown): SigninRefusal {
  const attached = (err as { [REFUSAL]?: SigninRefusal } | null)?.[REFUSAL];
  if (attached !== undefined) return attached;
  const code = err instanceof PortcullisError ? err.code : undefined;
  return { reason: (code === undefined ? undefined : BY_CODE[code]) ?? 'error' };
}

const CLAIM_REASONS = new Set<string>(['iss', 'aud', 'azp', 'nonce', 'exp', 'nbf', 'iat', 'auth_time']);
const HASH_REASONS = new Set<string>(['c_hash', 's_hash']);
const TIME_CLAIMS = new Set<string>(['exp', 'nbf', 'iat', 'auth_time']);

/** oauth4webapi's refusal of an ID token claim (`{ claim, expected, claims, now }`), if that is `err`. */
export function claimCheckRefusal(err: unknown): SigninRefusal | undefined {
  if (!(err instanceof oauth.OperationProcessingError)) return undefined;
  const cause = err.cause as
    | { claim?: unknown; expected?: unknown; claims?: Record<string, unknown>; now?: unknown }
    | undefined;
  const claim = cause?.claim;
  if (typeof claim !== 'string' || !(CLAIM_REASONS.has(claim) || HASH_REASONS.has(claim))) return undefined;
  const refusal: SigninRefusal = {
    reason: claim as SigninRefusalReason,
    expected: cause?.expected === undefined ? undefined : shown(cause.expected),
    received: shown(cause?.claims?.[claim]),
  };
  return typeof cause?.now === 'number' ? { ...refusal, now: cause.now } : refusal;
}

function header(token: string): jose.ProtectedHeaderParameters {
  try {
    return jose.decodeProtectedHeader(token);
  } catch {
    return {};
  }
}

/** jose's refusal of a JWT (ID token or logout token), with the values the check compared. */
export function joseRefusal(
  err: unknown,
  token: string,
  expected: { issuer: string; audience: string; algorithms: readonly string[] },
): SigninRefusal {
  if (err instanceof jose.errors.JOSEAlgNotAllowed) {
    return { reason: 'alg', expected: shown(expected.algorithms), received: shown(header(token).alg) };
  }
  if (err instanceof jose.errors.JWKSNoMatchingKey)
    return { reason: 'kid', received: shown(header(token).kid) };
  if (err instanceof jose.errors.JWSSignatureVerificationFailed) return { reason: 'signature' };
  if (err instanceof jose.errors.JWTClaimValidationFailed || err instanceof jose.errors.JWTExpired) {
    const claim = err.claim;
    const reason = CLAIM_REASONS.has(claim) ? (claim as SigninRefusalReason) : 'malformed';
    const wanted = claim === 'iss' ? expected.issuer : claim === 'aud' ? expected.audience : undefined;
    const refusal: SigninRefusal = { reason, expected: wanted, received: shown(err.payload[claim]) };
    return TIME_CLAIMS.has(claim) ? { ...refusal, now: Math.floor(Date.now() / 1000) } : refusal;
  }
  return { reason: 'malformed' };
}
