/**
 * What a login leaves in the session: the token set, kept server-side (only the session cookie
 * reaches the browser), and when the login happened, for the absolute session lifetime.
 */
import type * as oauth from 'oauth4webapi';
import type { StoredDpopKey } from '../protocol/dpop/session-keys.js';

export interface TokenSet {
  id_token: string;
  /** The ID token's validated claims. */
  claims: Record<string, unknown>;
  access_token?: string;
  token_type?: string;
  /** Seconds since the epoch. */
  expires_at?: number;
  scope?: string;
  refresh_token?: string;
  /** With `mergeUserInfo`: the userinfo endpoint's claims at login (same `sub`), under the ID token's. */
  userinfo?: Record<string, unknown>;
}

export interface StoredLogin {
  tokens: TokenSet;
  /** The provider the user signed in with (its id); none in sessions made before several providers: `default`. */
  provider?: string;
  /** With `dpop`: the key the tokens are bound to (RFC 9449), private half included, server-side only. */
  dpopKey?: StoredDpopKey;
  /** Milliseconds since the epoch, when the user logged in. */
  createdAt: number;
  /** Set when this login was a step-up started by requiresAuth(): where it was for, and when. */
  stepUp?: { returnTo: string; at: number };
}

/** `Bearer` (RFC 6750) and `DPoP` (RFC 9449) as the RFCs spell them; other types as sent. */
export function canonicalTokenType(type: string): string {
  const lower = type.toLowerCase();
  return lower === 'bearer' ? 'Bearer' : lower === 'dpop' ? 'DPoP' : type;
}

/** Build a token set from a token endpoint answer (RFC 6749 §5.1). */
export function tokenSetFrom(
  response: oauth.TokenEndpointResponse,
  idToken: string,
  claims: Record<string, unknown>,
  previous?: TokenSet,
): TokenSet {
  const set: TokenSet = { id_token: idToken, claims };
  if (response.access_token !== undefined) set.access_token = response.access_token;
  // oauth4webapi lower-cases the type; give it the RFCs' spelling, as the service agent does.
  if (response.token_type !== undefined) set.token_type = canonicalTokenType(response.token_type);
  if (typeof response.expires_in === 'number')
    set.expires_at = Math.floor(Date.now() / 1000) + response.expires_in;
  const scope = response.scope ?? previous?.scope;
  if (scope !== undefined) set.scope = scope;
  // Refresh-token rotation: a new one replaces the old; none in the answer keeps the old one.
  const refresh = response.refresh_token ?? previous?.refresh_token;
  if (refresh !== undefined) set.refresh_token = refresh;
  // A refresh brings a new ID token, not new userinfo: the login's stays.
  if (previous?.userinfo !== undefined) set.userinfo = previous.userinfo;
  return set;
}
