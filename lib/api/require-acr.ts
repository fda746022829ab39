/**
 * `requireAcr(values, { maxAge })` after `bearer()` (or `auth()`): the user behind the token must have
 * authenticated with one of `values` (`acr`), and within `maxAge` seconds (`auth_time`). Otherwise
 * 401 `insufficient_user_authentication` with `acr_values` and `max_age` (RFC 9470 §3), so that the
 * client can step the user up at the IdP and come back.
 */
import { InsufficientUserAuthenticationError } from '../errors.js';
import { acrShortfall, checkAcrRequirement } from '../protocol/acr.js';
import { grantOf, realmOf } from './auth-source.js';
import type { NodeMiddleware } from './bearer.js';
import { respondWithError } from './respond.js';

/**
 * @example app.post('/api/payments', requireAcr(['urn:example:mfa'], { maxAge: 300 }), handler);
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function requireAcr(acrValues: readonly string[], options: { maxAge?: number } = {}): NodeMiddleware {
  const requirement = checkAcrRequirement({ acrValues, maxAge: options.maxAge }, 'requireAcr()');
  return function requireAcrMiddleware(req, res, next) {
    let shortfall: string | undefined;
    try {
      shortfall = acrShortfall(grantOf(req).payload, requirement, Math.floor(Date.now() / 1000));
    } catch (err) {
      return respondWithError(res, err, next);
    }
    if (shortfall === undefined) return next();
    respondWithError(
      res,
      new InsufficientUserAuthenticationError(shortfall, { realm: realmOf(req), ...requirement }),
      next,
    );
  };
}
