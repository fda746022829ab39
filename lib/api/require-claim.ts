/**
 * `requireClaim(name, expected | predicate)`: the token's claim must equal `expected` (or contain
 * it, when the claim is a list), or satisfy the predicate. A failure is 401 `invalid_token`, as in
 * express-oauth2-jwt-bearer's claim checks; the description names the claim, never its value.
 */
import { InvalidTokenError } from '../errors.js';
import type { AccessTokenClaims } from '../protocol/claims.js';
import { grantOf, realmOf } from './auth-source.js';
import type { NodeMiddleware } from './bearer.js';
import { respondWithError } from './respond.js';

/** A JSON primitive a claim may be compared with. */
export type ClaimValue = string | number | boolean;

/** Decides whether a claim is acceptable; gets the claim and the whole payload. */
export type ClaimPredicate = (value: unknown, payload: Readonly<AccessTokenClaims>) => boolean;

function matches(value: unknown, expected: ClaimValue): boolean {
  return Array.isArray(value) ? value.includes(expected) : value === expected;
}

/**
 * @example app.get('/api/admin', requireClaim('org_id', 'acme'), handler);
 * @example app.get('/api/beta', requireClaim('email_verified', (v) => v === true), handler);
 */
export function requireClaim(name: string, expected: ClaimValue | ClaimPredicate): NodeMiddleware {
  if (typeof name !== 'string' || name === '') throw new TypeError('requireClaim() needs a claim name');
  const type = typeof expected;
  if (type !== 'string' && type !== 'number' && type !== 'boolean' && type !== 'function') {
    throw new TypeError('requireClaim() takes a string, number or boolean to compare with, or a predicate');
  }
  return function requireClaimMiddleware(req, res, next) {
    let ok: boolean;
    try {
      const { payload } = grantOf(req);
      const value = payload?.[name];
      ok =
        payload !== undefined &&
        (typeof expected === 'function' ? expected(value, payload) === true : matches(value, expected));
    } catch (err) {
      return respondWithError(res, err, next);
    }
    if (ok) return next();
    respondWithError(
      res,
      new InvalidTokenError(`unexpected "${name}" claim value`, { realm: realmOf(req) }),
      next,
    );
  };
}
