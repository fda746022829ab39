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

/**
 * The realm of later challenges (`requireScope()`…) is that of the `bearer()` the request went
 * through. Touching `req` costs: Node and Express give each request object a hidden class of its own,
 * so every property added to it (or looked up and missing) takes V8's slow path, 2 to 3 µs of CPU plus
 * the garbage of a new hidden class, measured in bench/bearer. So the realm is kept per verdict, which
 * the cache shares between requests, and only when it is not the default; `req` gets it only when
 * the request goes on without a token.
 */
export const DEFAULT_REALM = 'api';
const REALM = Symbol('portcullis.realm');
type WithRealm = IncomingMessage & { [REALM]?: string };
const realms = new WeakMap<AuthResult, string>();

/** A request that goes on without a token: later checks challenge with this realm. */
export function setRealm(req: IncomingMessage, realm: string): void {
  (req as WithRealm)[REALM] = realm;
}

/** The realm of the `bearer()` that accepted `auth` (nothing to remember for the default one). */
export function setVerdictRealm(auth: AuthResult, realm: string): void {
  if (realm !== DEFAULT_REALM) realms.set(auth, realm);
}

export function realmOf(req: IncomingMessage): string {
  const auth = (req as IncomingMessage & { auth?: AuthResult }).auth;
  return (auth === undefined ? undefined : realms.get(auth)) ?? (req as WithRealm)[REALM] ?? DEFAULT_REALM;
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
