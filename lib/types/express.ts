/**
 * What `bearer()` puts on the request, and its declaration merging onto Express's `Request`
 * (as node-oauth2-jwt-bearer does), so that `req.auth` is typed in Express apps. Connect and
 * plain `node:http` users read the same object from `(req as AuthenticatedRequest).auth`.
 *
 * `req.oidc` is declared by the sign-in product, which owns it; the API checks read it through
 * the structural {@link SignedInContext} instead of redeclaring it.
 */
import type { IncomingMessage } from 'node:http';
import type { AuthResult } from '../protocol/auth-result.js';

export type { AuthResult };

/** A Node request that `bearer()` has authenticated. */
export type AuthenticatedRequest = IncomingMessage & { auth?: AuthResult };

declare global {
  namespace Express {
    interface Request {
      /** Set by `bearer()` when the request carried a valid access token. */
      auth?: AuthResult;
    }
  }
}
