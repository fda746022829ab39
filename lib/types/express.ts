/**
 * What `bearer()` puts on the request, and its declaration merging onto Express's `Request`
 * (as node-oauth2-jwt-bearer does), so that `req.auth` is typed in Express apps. Connect and
 * plain `node:http` users read the same object from `(req as AuthenticatedRequest).auth`.
 *
 * `req.oidc` is declared by the sign-in product, which owns it; the API checks read it through
 * the structural {@link SignedInContext} in `lib/api/auth-source.ts` instead of redeclaring it.
 */
import type { IncomingMessage } from 'node:http';
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';

/** The verified token, set as `req.auth` by `bearer()`. Frozen: it may be shared between requests. */
export interface AuthResult {
  /** The raw access token (never logged by portcullis). */
  readonly token: string;
  /** The JWS protected header (`{}` for an introspected opaque token). */
  readonly header: Readonly<ProtectedHeaderParameters>;
  /** The JWT claims, or the introspection response's members for an opaque token. */
  readonly payload: Readonly<JWTPayload>;
  /** Granted scopes, from `scope` (space separated), `scp` and, when enabled, `permissions`. */
  readonly scopes: readonly string[];
}

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
