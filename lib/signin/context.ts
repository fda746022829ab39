/**
 * The classes behind `req.oidc` and `res.oidc` (their public shape is in `context-types.ts`). State
 * is private (`#` fields), so `console.log(req.oidc)` shows no token; the tokens themselves are
 * reachable only through the getters, on the server.
 */
import type { NextFunction, Request, Response } from 'express';
import type { DPoPHandle } from 'oauth4webapi';
import { guardSigninContext, serveResponseContext } from '../context-guard.js';
import { PortcullisError } from '../errors.js';
import type { IdTokenClaims, UserClaims } from '../protocol/claims.js';
import { inSpan, type SpanHandle } from '../protocol/observability/spans.js';
import type { AccessToken, RequestContext, ResponseContext, SignedInFetchInit } from './context-types.js';
import { type LoginOptions, startLogin } from './login.js';
import { type LogoutOptions, logout } from './logout.js';
import { requestLogin } from './request-login.js';
import { RequestState, readStateWith, stateOf } from './request-state.js';
import type { SigninRuntime } from './runtime.js';
import { saveSession } from './session.js';
import { providerFields, refused } from './telemetry.js';
import { claimsOf, type StoredLogin, type StoredTokens, storedTokens, type TokenSet } from './token-set.js';

/** Protocol claims that say nothing about the user; `user` leaves them out, `idTokenClaims` keeps them. */
const PROTOCOL_CLAIMS = new Set([
  'iss',
  'aud',
  'azp',
  'exp',
  'iat',
  'nbf',
  'nonce',
  'at_hash',
  'c_hash',
  'auth_time',
  'sid',
  'jti',
]);

const DATA = { enumerable: true, writable: true, configurable: true } as const;

function accessTokenOf(tokens: StoredTokens): AccessToken | undefined {
  if (tokens.access_token === undefined) return undefined;
  const { access_token, token_type = 'Bearer', expires_at, scope } = tokens;
  return Object.freeze({
    access_token,
    token_type,
    expires_at,
    scope,
    isExpired: () => expires_at !== undefined && expires_at <= Math.floor(Date.now() / 1000),
  });
}

class SessionRequestContext implements RequestContext {
  readonly #req: Request;
  /** auth()'s notes on this request (request-state.ts); private, so `console.log(req.oidc)` shows none. */
  readonly #state: RequestState;

  constructor(req: Request, state: RequestState) {
    this.#req = req;
    this.#state = state;
  }

  get #rt(): SigninRuntime {
    return this.#state.rt;
  }

  static stateOf(context: object): RequestState | undefined {
    return #state in context ? (context as SessionRequestContext).#state : undefined;
  }

  get #tokens(): StoredTokens | undefined {
    return requestLogin(this.#req, this.#state)?.login.tokens;
  }

  /** The id of the provider the user signed in with (`default` for a single IdP); none when signed out. */
  get provider(): string | undefined {
    return requestLogin(this.#req, this.#state)?.provider.config.id;
  }

  /** True when the session holds a login. */
  isAuthenticated(): boolean {
    return this.#tokens !== undefined;
  }

  // The casts below: the ID token was validated (`sub`, `iss`, `aud`, `exp`, `iat` are there and
  // typed); the other claims are typed as OpenID Connect defines them and passed on as sent.

  /** The user's claims from the ID token, without the protocol claims. */
  get user(): UserClaims | undefined {
    const tokens = this.#tokens;
    if (tokens === undefined) return undefined;
    // With `mergeUserInfo`, userinfo fills what the ID token left out; the ID token's own claims win.
    const claims = claimsOf(tokens);
    const merged = tokens.userinfo === undefined ? claims : { ...tokens.userinfo, ...claims };
    // A loop rather than Object.fromEntries(entries.filter()): a fifth of the cost, on every read.
    const user: Record<string, unknown> = {};
    for (const key of Object.keys(merged)) {
      if (PROTOCOL_CLAIMS.has(key)) continue;
      // An assignment to "__proto__" would set the prototype: a claim of that name stays a claim.
      if (key === '__proto__') Object.defineProperty(user, key, { ...DATA, value: merged[key] });
      else user[key] = merged[key];
    }
    return user as UserClaims;
  }

  get idToken(): string | undefined {
    return this.#tokens?.id_token;
  }

  /** Every claim of the validated ID token. */
  get idTokenClaims(): IdTokenClaims | undefined {
    const tokens = this.#tokens;
    return tokens === undefined ? undefined : ({ ...claimsOf(tokens) } as IdTokenClaims);
  }

  get accessToken(): AccessToken | undefined {
    const tokens = this.#tokens;
    return tokens === undefined ? undefined : accessTokenOf(tokens);
  }

  get refreshToken(): string | undefined {
    return this.#tokens?.refresh_token;
  }

  /**
   * Use the refresh token for new tokens (RFC 6749 §6) and save them in the session. Concurrent calls
   * in one session share one request; a rotated refresh token replaces the old one.
   */
  refresh(): Promise<AccessToken | undefined> {
    return inSpan('portcullis.signin.refresh', {}, (span) => this.#refresh(span));
  }

  async #refresh(span: SpanHandle | undefined): Promise<AccessToken | undefined> {
    const current = requestLogin(this.#req, this.#state);
    if (current === undefined) {
      throw new PortcullisError('ERR_NOT_AUTHENTICATED', 'refresh() needs a signed-in user', { status: 401 });
    }
    const { login, provider } = current;
    if (login.tokens.refresh_token === undefined) {
      throw new PortcullisError(
        'ERR_NO_REFRESH_TOKEN',
        'the session has no refresh token (ask for "offline_access")',
        {
          status: 400,
        },
      );
    }
    const about = providerFields(provider, span);
    const started = performance.now();
    let tokens: TokenSet;
    try {
      tokens = await provider.refresher.refresh(
        { ...login.tokens, claims: claimsOf(login.tokens) },
        this.#req.sessionStore,
        await this.#dpop(login),
      );
      this.#req.session.portcullis = { ...login, tokens: storedTokens(tokens) };
      await saveSession(this.#req);
    } catch (err) {
      const { code, error } = refused(err);
      const durationMs = performance.now() - started;
      this.#rt.emit({
        type: 'signin.refresh.failed',
        ...about,
        code: code ?? 'ERR_REFRESH_FAILED',
        error,
        durationMs,
      });
      throw err;
    }
    const rotated = tokens.refresh_token !== login.tokens.refresh_token;
    span?.setAttribute('portcullis.token.rotated', rotated);
    this.#rt.emit({
      type: 'signin.refresh.completed',
      ...about,
      rotated,
      durationMs: performance.now() - started,
    });
    return accessTokenOf(tokens);
  }

  /** The userinfo endpoint's claims for the signed-in user; a different `sub` is refused. */
  async fetchUserInfo(): Promise<UserClaims> {
    const current = requestLogin(this.#req, this.#state);
    const tokens = current?.login.tokens;
    if (current === undefined || tokens?.access_token === undefined) {
      throw new PortcullisError(
        'ERR_NOT_AUTHENTICATED',
        'fetchUserInfo() needs a signed-in user with an access token',
        {
          status: 401,
        },
      );
    }
    const sub = claimsOf(tokens)['sub'];
    return {
      ...(await current.provider.client.userinfo(
        tokens.access_token,
        typeof sub === 'string' ? sub : '',
        await this.#dpop(current.login),
      )),
    };
  }

  /**
   * `fetch` to an API with the signed-in user's access token, refreshed first when it has expired
   * (and a refresh token is at hand). DPoP-bound tokens (`auth({ dpop: true })`) go with a fresh proof
   * per request and one retry on the server's `use_dpop_nonce`; others as `Authorization: Bearer`.
   * The answer is returned as is, 401 and 403 included; redirects are not followed.
   * @example const orders = await (await req.oidc.fetch('https://api.example.com/orders')).json();
   */
  async fetch(input: string | URL, init: SignedInFetchInit = {}): Promise<globalThis.Response> {
    let current = requestLogin(this.#req, this.#state);
    if (current?.login.tokens.access_token === undefined) {
      throw new PortcullisError(
        'ERR_NOT_AUTHENTICATED',
        'fetch() needs a signed-in user with an access token',
        {
          status: 401,
        },
      );
    }
    const expiresAt = current.login.tokens.expires_at;
    if (
      expiresAt !== undefined &&
      expiresAt <= Math.floor(Date.now() / 1000) &&
      current.login.tokens.refresh_token
    ) {
      await this.refresh();
      current = requestLogin(this.#req, this.#state)!;
    }
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new TypeError('req.oidc.fetch() needs an absolute URL');
    }
    return current.provider.client.resourceRequest(
      current.login.tokens.access_token!,
      (init.method ?? 'GET').toUpperCase(),
      url,
      new Headers(init.headers),
      init.body ?? null,
      await this.#dpop(current.login),
    );
  }

  /** The session's DPoP handle when its tokens are bound; a bound session without a usable key is refused. */
  async #dpop(login: StoredLogin): Promise<DPoPHandle | undefined> {
    const bound = login.dpopKey !== undefined || login.tokens.token_type?.toLowerCase() === 'dpop';
    if (!bound) return undefined;
    const handle = await this.#rt.dpopKeys.handle(login.dpopKey);
    if (handle === undefined) {
      throw new PortcullisError('ERR_NOT_AUTHENTICATED', "the session's DPoP key is unusable; log in again", {
        status: 401,
      });
    }
    return handle;
  }
}

/** requiresAuth()'s way to start a step-up login: a method of the class, not of `ResponseContext`. */
const STEP_UP = Symbol('portcullis.stepUp');

class SessionResponseContext implements ResponseContext {
  readonly #req: Request;
  readonly #res: Response;
  readonly #next: NextFunction;
  readonly #rt: SigninRuntime;

  constructor(req: Request, res: Response, next: NextFunction, rt: SigninRuntime) {
    this.#req = req;
    this.#res = res;
    this.#next = next;
    this.#rt = rt;
  }

  /** Send the user to the IdP to log in. Errors (IdP down: 503) go to `next(err)`. */
  login(options: LoginOptions = {}): Promise<void> {
    return startLogin(this.#rt, this.#req, this.#res, options).catch((err: unknown) => this.#next(err));
  }

  /** A step-up login goes to the provider the user signed in with. */
  [STEP_UP](options: LoginOptions): Promise<void> {
    const provider = requestLogin(this.#req)?.provider.config.id;
    const withProvider = provider === undefined ? options : { ...options, provider };
    return startLogin(this.#rt, this.#req, this.#res, withProvider, { stepUp: true }).catch((err: unknown) =>
      this.#next(err),
    );
  }

  /** Log the user out (and at the IdP with `idpLogout`). Errors go to `next(err)`. */
  logout(options: LogoutOptions = {}): Promise<void> {
    return logout(this.#rt, this.#req, this.#res, options).catch((err: unknown) => this.#next(err));
  }
}

/** `res.oidc` of a response whose request went through `auth()`, made when first read. */
function responseContext(res: Response): ResponseContext | undefined {
  const req = res.req as Request | undefined;
  const state = req === undefined ? undefined : stateOf(req);
  if (req === undefined || state === undefined) return undefined;
  state.response ??= new SessionResponseContext(req, res, state.next, state.rt);
  return state.response as ResponseContext;
}
serveResponseContext(responseContext as (res: unknown) => unknown);
readStateWith((context) => SessionRequestContext.stateOf(context));

/**
 * What `auth()` does on every request: set `req.oidc` for this `auth()` instance (`res.oidc` is read
 * through it), and return its notes on the request. One property added to `req`, none to `res`: see
 * request-state.ts for why that counts.
 */
export function attachContexts(
  req: Request,
  res: Response,
  next: NextFunction,
  rt: SigninRuntime,
): RequestState {
  const served = guardSigninContext(req, res);
  const state = new RequestState(rt, next);
  req.oidc = new SessionRequestContext(req, state);
  // Connect, or an Express whose prototypes portcullis could not extend: a property after all.
  if (!served) res.oidc = new SessionResponseContext(req, res, next, rt);
  return state;
}

/** Start a step-up login (requiresAuth()): remembered as one, so a shortfall after it ends in 403. */
export function startStepUp(res: Response, options: LoginOptions): Promise<void> {
  return (res.oidc as SessionResponseContext)[STEP_UP](options);
}

/** Whether this request's `auth()` sends `Cache-Control: no-store` on the pages it guards (`noStore`). */
export function noStoreWanted(req: Request): boolean {
  return stateOf(req)?.rt.config.noStore ?? true;
}
