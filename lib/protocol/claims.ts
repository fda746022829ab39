/**
 * The claims portcullis hands to apps, typed as their specifications define them, so that
 * `req.oidc.user.email` is a `string` and `req.auth.payload.exp` a `number` without a cast. A claim
 * no specification names stays `unknown` (the index signatures) until the app declares it, by
 * declaration merging on the exported interfaces:
 *
 * ```ts
 * declare module 'portcullis' {
 *   interface UserClaims { tenant: string }
 *   interface AccessTokenClaims { permissions?: string[] }
 * }
 * ```
 *
 * The standard claims are in base interfaces (`StandardClaims`), not in the mergeable ones
 * themselves, so that an app may also narrow one: `interface UserClaims { email: string }` is an
 * override of `email?: string`, where two declarations of one interface would have to agree.
 */

/** The `address` claim (OpenID Connect Core §5.1.1). */
export interface AddressClaim {
  /** The full address for display, lines separated by `\n`. */
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

/**
 * The standard claims about the user (OpenID Connect Core §5.1). Only `sub` is always present;
 * which others come depends on the scopes asked for (`profile`, `email`, `address`, `phone`) and
 * on the IdP. They are typed as the specification defines them and passed on as the IdP sent them.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#StandardClaims
 */
export interface StandardClaims {
  /** The user's identifier at the IdP, unique and never reassigned for this issuer. */
  sub: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  middle_name?: string;
  nickname?: string;
  /** A name the user likes to be called by; not unique, and not an identifier. */
  preferred_username?: string;
  /** URL of the user's profile page. */
  profile?: string;
  /** URL of the user's picture. */
  picture?: string;
  website?: string;
  /** Not proof that the user controls the address: see `email_verified`. */
  email?: string;
  email_verified?: boolean;
  gender?: string;
  /** `YYYY-MM-DD`, or `YYYY` alone, or `0000-MM-DD` when the user withholds the year. */
  birthdate?: string;
  /** A time zone name such as `Europe/Paris`. */
  zoneinfo?: string;
  /** A BCP 47 language tag such as `en-US`. */
  locale?: string;
  /** E.164 is recommended, such as `+1 (425) 555-1212`. */
  phone_number?: string;
  phone_number_verified?: boolean;
  address?: AddressClaim;
  /** When the user's information was last updated, in seconds since the epoch. */
  updated_at?: number;
}

/**
 * The claims of `req.oidc.user` (the ID token's claims about the user) and of
 * `req.oidc.fetchUserInfo()`. Declare your IdP's own claims here by declaration merging; portcullis
 * does not check them, so declare what your IdP really sends.
 * @example
 * declare module 'portcullis' {
 *   interface UserClaims { tenant: string; roles?: string[] }
 * }
 */
export interface UserClaims extends StandardClaims {
  /** Claims not declared here are `unknown`: check them before use. */
  [claim: string]: unknown;
}

/**
 * The claims only an ID token carries, about the token and the login rather than the user
 * (OpenID Connect Core §2). `iss`, `aud`, `exp`, `iat`, `nonce`, `azp` and `auth_time` have been
 * checked when the login completed.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDToken
 */
export interface IdTokenProtocolClaims {
  iss: string;
  aud: string | string[];
  /** Expiry of the ID token (not of the session), in seconds since the epoch. */
  exp: number;
  iat: number;
  /** When the user authenticated, in seconds since the epoch. */
  auth_time?: number;
  nonce?: string;
  /** The Authentication Context Class Reference the login satisfied. */
  acr?: string;
  /** The Authentication Methods References, such as `pwd`, `otp`, `hwk` (RFC 8176). */
  amr?: string[];
  azp?: string;
  /** The IdP's session ID (Front- and Back-Channel Logout). */
  sid?: string;
  at_hash?: string;
  c_hash?: string;
}

/** Every claim of the validated ID token: `req.oidc.idTokenClaims`. */
export interface IdTokenClaims extends IdTokenProtocolClaims, UserClaims {
  /** Claims not declared are `unknown`: check them before use. */
  [claim: string]: unknown;
}

/**
 * The claims of a JWT access token (RFC 9068 §2.2) and the members of a token introspection answer
 * (RFC 7662 §2.2), as `bearer()` puts them in `req.auth.payload`. All optional, as introspection
 * answers may leave any out. `bearer()` has checked `iss`, `aud`, `exp`, `nbf`, `iat` and, for a
 * DPoP-bound token, `cnf.jkt`; the others are passed on as the IdP sent them.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 */
export interface StandardAccessTokenClaims {
  iss?: string;
  /** The resource owner, or the client itself for a client-credentials token. */
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  /** The client the token was issued to. */
  client_id?: string;
  /** Space-separated scopes (`req.auth.scopes` holds them parsed). */
  scope?: string;
  /** When the user authenticated, in seconds since the epoch (RFC 9068 §2.2.1). */
  auth_time?: number;
  acr?: string;
  amr?: string[];
  /** Confirmation (RFC 7800): `jkt` is the DPoP key's thumbprint (RFC 9449 §6). */
  cnf?: { jkt?: string; 'x5t#S256'?: string; [member: string]: unknown };
  /** The acting party in a delegation chain (RFC 8693 §4.1). */
  act?: { sub?: string; [claim: string]: unknown };
  /** RFC 9068 §2.2.3.1 (SCIM-style authorization attributes). */
  roles?: string[];
  groups?: string[];
  entitlements?: string[];
  /** Introspection only (RFC 7662 §2.2): `bearer()` accepts only active tokens. */
  active?: boolean;
  username?: string;
  token_type?: string;
}

/**
 * `req.auth.payload`. Declare your IdP's own claims here by declaration merging.
 * @example
 * declare module 'portcullis' {
 *   interface AccessTokenClaims { permissions?: string[]; org_id?: string }
 * }
 */
export interface AccessTokenClaims extends StandardAccessTokenClaims {
  /** Claims not declared here are `unknown`: check them before use. */
  [claim: string]: unknown;
}
