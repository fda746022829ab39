/**
 * Verify an RFC 9068 JWT access token: decode, check the header, check the claims, find the key,
 * verify the signature — in that order, each step named, every step always run. The result is
 * returned synchronously when the key is already known (the common case), so that a request pays
 * for no promise it does not need.
 */
import type { KeyObject } from 'node:crypto';
import { InvalidTokenError } from '../errors.js';
import { type AsymmetricAlgorithm, type HmacAlgorithm, isHmac } from './algorithms.js';
import type { AuthResult } from './auth-result.js';
import { refuse, shown } from './bearer-refusal.js';
import type { JwksKey, JwksStore } from './jwks.js';
import { checkClaims, checkHeader, type JwtPolicy } from './jwt-checks.js';
import { type DecodedJws, decodeJws } from './jwt-decode.js';
import { scopesOf } from './scopes.js';
import { verifyAsymmetric, verifyHmac } from './verify-signature.js';

export interface JwtVerifierContext {
  readonly policy: JwtPolicy;
  /** Absent when only HMAC algorithms are allowed. */
  readonly jwks: JwksStore | undefined;
  /** The HMAC secret; HMAC algorithms verify with it and nothing else. */
  readonly secret: KeyObject | undefined;
  readonly permissionsAsScopes: boolean;
}

/** A verified token, and the id of the JWKS key that verified it (for cache eviction). */
export interface VerifiedJwt {
  readonly result: AuthResult;
  readonly keyId: string | undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function toResult(token: string, decoded: DecodedJws, ctx: JwtVerifierContext): AuthResult {
  // Frozen: one verdict may be handed to many requests by the cache.
  return deepFreeze({
    token,
    header: decoded.header,
    payload: decoded.payload,
    // checkIssuer() ran: `iss` is a string and one this API accepts.
    issuer: decoded.payload.iss as string,
    scopes: scopesOf(decoded.payload, { permissions: ctx.permissionsAsScopes }),
  });
}

/** The operator learns which key was tried: the token's `kid` and `alg`, and how many keys fitted. */
function badSignature(ctx: JwtVerifierContext, decoded: DecodedJws, tried: number): InvalidTokenError {
  const err = new InvalidTokenError("the token's signature does not verify", { realm: ctx.policy.realm });
  return refuse(err, {
    reason: 'signature',
    kid: shown(decoded.header.kid),
    alg: shown(decoded.header.alg),
    keysTried: tried,
  });
}

function verifyWithKeys(
  token: string,
  decoded: DecodedJws,
  alg: AsymmetricAlgorithm,
  keys: readonly JwksKey[],
  ctx: JwtVerifierContext,
): VerifiedJwt {
  const input = Buffer.from(decoded.signingInput, 'latin1');
  for (const candidate of keys) {
    if (verifyAsymmetric(alg, candidate.key, input, decoded.signature)) {
      return { result: toResult(token, decoded, ctx), keyId: candidate.id };
    }
  }
  throw badSignature(ctx, decoded, keys.length);
}

/** Verify `token` at `now` (seconds). Throws `invalid_token`, or a 503 error when keys are unreachable. */
export function verifyJwtAccessToken(
  token: string,
  ctx: JwtVerifierContext,
  now: number,
): VerifiedJwt | Promise<VerifiedJwt> {
  const decoded = decodeJws(token, ctx.policy.realm);
  const alg = checkHeader(decoded.header, ctx.policy);
  checkClaims(decoded.payload, ctx.policy, now);

  if (isHmac(alg)) {
    const ok =
      ctx.secret !== undefined &&
      verifyHmac(
        alg as HmacAlgorithm,
        ctx.secret,
        Buffer.from(decoded.signingInput, 'latin1'),
        decoded.signature,
      );
    if (!ok) throw badSignature(ctx, decoded, ctx.secret === undefined ? 0 : 1);
    return { result: toResult(token, decoded, ctx), keyId: undefined };
  }
  if (ctx.jwks === undefined) throw badSignature(ctx, decoded, 0);
  const asymmetric = alg as AsymmetricAlgorithm;
  const keys = ctx.jwks.select(decoded.header.kid, asymmetric);
  return Array.isArray(keys)
    ? verifyWithKeys(token, decoded, asymmetric, keys as readonly JwksKey[], ctx)
    : (keys as Promise<readonly JwksKey[]>).then((found) =>
        verifyWithKeys(token, decoded, asymmetric, found, ctx),
      );
}
