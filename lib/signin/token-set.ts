/**
 * What a login leaves in the session: the token set, kept server-side (only the session cookie
 * reaches the browser), and when the login happened, for the absolute session lifetime.
 *
 * The session holds the ID token's claims only when they are not the ID token's own payload (an
 * `afterCallback` changed them): express-session serialises and hashes the whole session several
 * times on every request, so every stored key costs each request of every signed-in user.
 */
import type * as oauth from 'oauth4webapi';
import type { StoredDpopKey } from '../protocol/dpop/session-keys.js';
import { unverifiedPayload } from '../protocol/jwt-decode.js';

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

/** A token set as the session stores it: `claims` only when they differ from the ID token's payload. */
export type StoredTokens = Omit<TokenSet, 'claims'> & { claims?: Record<string, unknown> };

export interface StoredLogin {
  tokens: StoredTokens;
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

/**
 * The token set to store: without `claims` when they are the ID token's payload, decoded again on
 * reading. Decided once per login or refresh, by comparing the two as JSON.
 */
export function storedTokens(tokens: StoredTokens): StoredTokens {
  const { claims, ...rest } = tokens;
  if (claims === undefined) return tokens;
  const payload = unverifiedPayload(tokens.id_token);
  return payload !== undefined && JSON.stringify(payload) === JSON.stringify(claims) ? rest : tokens;
}

/** Decoded once per stored token set (one per request: the session is read afresh for each). */
const decoded = new WeakMap<StoredTokens, Record<string, unknown>>();

/** The ID token's claims of a stored token set: kept ones, or its ID token's payload. */
export function claimsOf(tokens: StoredTokens): Record<string, unknown> {
  if (tokens.claims !== undefined) return tokens.claims;
  let claims = decoded.get(tokens);
  if (claims === undefined) {
    claims = unverifiedPayload(tokens.id_token) ?? {};
    decoded.set(tokens, claims);
  }
  return claims;
}
