/**
 * Where the scope and claim checks find the grant: `req.auth` from `bearer()`, or else the
 * signed-in user's access token from `auth()` (`req.oidc.accessToken`). The sign-in context is
 * described structurally here, so the API product does not depend on the sign-in product.
 */
import type { IncomingMessage } from 'node:http';
import { ownSigninContext } from '../context-guard.js';
import { InvalidTokenError, UnauthorizedError } from '../errors.js';
import type { AccessTokenClaims } from '../protocol/claims.js';
import { unverifiedPayload } from '../protocol/jwt-decode.js';
import { parseScope, scopesOf } from '../protocol/scopes.js';
import type { AuthResult } from '../types/express.js';

/** The part of `req.oidc.accessToken` (sign-in) the checks read. */
export interface SignedInAccessToken {
  readonly access_token: string;
  readonly token_type?: string | undefined;
  readonly expires_at?: number | undefined;
  readonly scope?: string | undefined;
  isExpired?(): boolean;
}

/** The part of `req.oidc` (sign-in) the checks read. */
export interface SignedInContext {
  readonly accessToken?: SignedInAccessToken | undefined;
}

export interface Grant {
  readonly scopes: readonly string[];
  /** Claims, when known: the verified payload, or a signed-in user's JWT access token's payload. */
  readonly payload: Readonly<AccessTokenClaims> | undefined;
}

// A symbol-keyed property rather than a WeakMap: one hidden-class transition shared by every
// request, instead of an ephemeron per request for the garbage collector to trace.
const REALM = Symbol('portcullis.realm');
type WithRealm = IncomingMessage & { [REALM]?: string };

/** `bearer()` records its realm so that later checks challenge with the same one. */
export function setRealm(req: IncomingMessage, realm: string): void {
  (req as WithRealm)[REALM] = realm;
}

export function realmOf(req: IncomingMessage): string {
  return (req as WithRealm)[REALM] ?? 'api';
}

/** The request's grant; throws 401 when there is none (or the signed-in token has expired). */
export function grantOf(req: IncomingMessage): Grant {
  const auth = (req as IncomingMessage & { auth?: AuthResult }).auth;
  if (auth !== undefined) return { scopes: auth.scopes, payload: auth.payload };
  const realm = realmOf(req);
  // Read without tripping the accessor that makes `req.oidc` throw in apps without auth().
  const accessToken = (ownSigninContext(req) as SignedInContext | undefined)?.accessToken;
  if (accessToken === undefined || typeof accessToken.access_token !== 'string') {
    throw new UnauthorizedError('authentication required', { realm });
  }
  if (typeof accessToken.isExpired === 'function' && accessToken.isExpired()) {
    throw new InvalidTokenError('the access token has expired', { realm });
  }
  const payload = unverifiedPayload(accessToken.access_token);
  const scopes = accessToken.scope !== undefined ? parseScope(accessToken.scope) : scopesOf(payload ?? {});
  return { scopes, payload };
}
