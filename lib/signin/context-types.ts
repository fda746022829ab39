/**
 * The public shape of `req.oidc` and `res.oidc`, and their declaration on Express's `Request` and
 * `Response`. Interfaces, not the classes that implement them, so that the shipped types hold what
 * an app may use and nothing of how `auth()` is built.
 *
 * `req.oidc` is declared on every request and not optional: an app that mounts `auth()` reads
 * `req.oidc.user` with no `!`. In an app without `auth()` reading it throws an error saying so,
 * rather than crashing on `undefined` (see the context guard).
 */
import type { IdTokenClaims, UserClaims } from '../protocol/claims.js';
import type { LoginOptions } from './login.js';
import type { LogoutOptions } from './logout.js';

/** The signed-in user's access token: `req.oidc.accessToken`. */
export interface AccessToken {
  readonly access_token: string;
  /** `Bearer`, or `DPoP` for a token bound to the session's key (`auth({ dpop: true })`). */
  readonly token_type: string;
  /** Seconds since the epoch, when known. */
  readonly expires_at: number | undefined;
  readonly scope: string | undefined;
  /** True once `expires_at` has passed. */
  isExpired(): boolean;
}

/** What `req.oidc.fetch()` takes: a body that can be sent twice (a DPoP nonce retry resends it). */
export interface SignedInFetchInit {
  method?: string;
  headers?: HeadersInit;
  body?: string | Uint8Array | URLSearchParams | null;
}

/**
 * `req.oidc`, set by `auth()` on every request: the signed-in user and their tokens. The tokens
 * stay on the server; `console.log(req.oidc)` shows none of them.
 * @example
 * app.get('/', (req, res) => res.send(req.oidc.isAuthenticated() ? `Hello ${req.oidc.user?.name}` : 'Hello'));
 */
export interface RequestContext {
  /** True when the session holds a login. */
  isAuthenticated(): boolean;
  /**
   * The id of the provider the user signed in with (`auth({ providers })`, `resolveProvider`);
   * `'default'` with a single IdP; `undefined` when no one is signed in.
   */
  readonly provider: string | undefined;
  /** The ID token's claims about the user (no protocol claims such as `iss` or `nonce`). */
  readonly user: UserClaims | undefined;
  /** The raw ID token. */
  readonly idToken: string | undefined;
  /** Every claim of the validated ID token. */
  readonly idTokenClaims: IdTokenClaims | undefined;
  readonly accessToken: AccessToken | undefined;
  readonly refreshToken: string | undefined;
  /**
   * Use the refresh token for new tokens (RFC 6749 §6) and save them in the session. Concurrent calls
   * in one session share one request; a rotated refresh token replaces the old one.
   * @throws PortcullisError `ERR_NOT_AUTHENTICATED` without a login, `ERR_NO_REFRESH_TOKEN` without a refresh token
   */
  refresh(): Promise<AccessToken | undefined>;
  /** The userinfo endpoint's claims for the signed-in user; a different `sub` is refused. */
  fetchUserInfo(): Promise<UserClaims>;
  /**
   * `fetch` to an API with the signed-in user's access token, refreshed first when it has expired
   * (and a refresh token is at hand). DPoP-bound tokens (`auth({ dpop: true })`) go with a fresh proof
   * per request and one retry on the server's `use_dpop_nonce`; others as `Authorization: Bearer`.
   * The answer is returned as is, 401 and 403 included; redirects are not followed.
   * @example const orders = await (await req.oidc.fetch('https://api.example.com/orders')).json();
   */
  fetch(input: string | URL, init?: SignedInFetchInit): Promise<globalThis.Response>;
}

/** `res.oidc`, set by `auth()`: start a login or a logout from any route. */
export interface ResponseContext {
  /** Send the user to the IdP to log in. Errors (IdP down: 503) go to `next(err)`. */
  login(options?: LoginOptions): Promise<void>;
  /** Log the user out (and at the IdP with `idpLogout`). Errors go to `next(err)`. */
  logout(options?: LogoutOptions): Promise<void>;
}

declare global {
  namespace Express {
    interface Request {
      /**
       * Set by `auth()`: the signed-in user and their tokens. Reading it in an app or on a route
       * without `auth()` throws a `PortcullisError` saying to mount `auth()` first.
       */
      oidc: RequestContext;
    }
    interface Response {
      /** Set by `auth()`: start a login or a logout from any route. */
      oidc: ResponseContext;
    }
  }
}
