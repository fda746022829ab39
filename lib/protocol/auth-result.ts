/** What `bearer()` learns from a valid token; the API glue puts it on the request as `req.auth`. */
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
  /**
   * Set when the token is DPoP-bound and came with a valid proof (RFC 9449): the thumbprint of the
   * client's key, equal to the token's `cnf.jkt`.
   */
  readonly dpop?: { readonly jkt: string };
}
