/**
 * `requireScope(...)` (all of them) and `requireAnyScope(...)` (at least one), after `bearer()` or
 * after sign-in's `auth()`. A missing scope is 403 `insufficient_scope` with `scope="..."` naming
 * what the route needs (RFC 6750 §3.1); no grant at all is 401.
 */
import { InsufficientScopeError } from '../errors.js';
import { hasAnyScope, isScopeToken, missingScopes } from '../protocol/scopes.js';
import { grantOf, realmOf } from './auth-source.js';
import type { NodeMiddleware } from './bearer.js';
import { respondWithError } from './respond.js';

function validateScopes(factory: string, scopes: unknown[]): string[] {
  if (scopes.length === 0) throw new TypeError(`${factory}() needs at least one scope`);
  for (const scope of scopes) {
    if (!isScopeToken(scope)) {
      throw new TypeError(`${factory}() takes scope strings without spaces or quotes, one per argument`);
    }
  }
  return scopes as string[];
}

function scopeCheck(factory: string, scopes: unknown[], mode: 'all' | 'any'): NodeMiddleware {
  const required = validateScopes(factory, scopes);
  const wanted = required.join(' ');
  return function requireScopeMiddleware(req, res, next) {
    try {
      const { scopes: granted } = grantOf(req);
      const ok =
        mode === 'all' ? missingScopes(granted, required).length === 0 : hasAnyScope(granted, required);
      if (ok) return next();
      const description =
        mode === 'all' ? 'the token lacks a required scope' : 'the token has none of the accepted scopes';
      respondWithError(
        res,
        new InsufficientScopeError(description, { realm: realmOf(req), scope: wanted }),
        next,
      );
    } catch (err) {
      respondWithError(res, err, next);
    }
  };
}

/**
 * Require every listed scope.
 * @example app.post('/api/orders', requireScope('orders:write', 'orders:read'), handler);
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export function requireScope(...scopes: string[]): NodeMiddleware {
  return scopeCheck('requireScope', scopes, 'all');
}

/**
 * Require at least one of the listed scopes.
 * @example app.get('/api/reports', requireAnyScope('reports:read', 'admin'), handler);
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export function requireAnyScope(...scopes: string[]): NodeMiddleware {
  return scopeCheck('requireAnyScope', scopes, 'any');
}
