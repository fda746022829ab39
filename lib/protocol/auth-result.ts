/** What `bearer()` learns from a valid token, and puts on the request as `req.auth`. */
import type { ProtectedHeaderParameters } from 'jose';
import type { AccessTokenClaims } from './claims.js';

/** The verified token, set as `req.auth` by `bearer()`. Frozen: it may be shared between requests. */
export interface AuthResult {
  /** The raw access token (never logged by portcullis). */
  readonly token: string;
  /** The JWS protected header (`{}` for an introspected opaque token). */
  readonly header: Readonly<ProtectedHeaderParameters>;
  /** The JWT claims, or the introspection response's members for an opaque token. */
  readonly payload: Readonly<AccessTokenClaims>;
  /**
   * The issuer that vouches for the token: its verified `iss` (with `bearer({ issuers })`, the one that
   * chose the issuer's keys), or for an introspected token without `iss`, the configured issuer.
   */
  readonly issuer: string;
  /** Granted scopes, from `scope` (space separated), `scp` and, when enabled, `permissions`. */
  readonly scopes: readonly string[];
  /**
   * Set when the token is DPoP-bound and came with a valid proof (RFC 9449): the thumbprint of the
   * client's key, equal to the token's `cnf.jkt`.
   */
  readonly dpop?: { readonly jkt: string };
  /**
   * Set when the token is certificate-bound and came with its certificate (RFC 8705 §3): the
   * certificate's thumbprint, equal to the token's `cnf.x5t#S256`.
   */
  readonly mtls?: { readonly 'x5t#S256': string };
}
