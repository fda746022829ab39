/**
 * `auth()`: one middleware that mounts the login, callback and logout routes (with the IdP's return
 * from logout, and back-channel logout) and sets `req.oidc` and `res.oidc` on every request. It
 * dispatches its routes itself rather than through an Express Router, so that one build serves
 * Express 4 and 5 alike.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type AuthOptions, signinConfig } from '../config/signin.js';
import { IdpUnavailableError, PortcullisError } from '../errors.js';
import { handleBackchannelLogout } from './backchannel-logout.js';
import { handleCallback } from './callback.js';
import { attachContexts } from './context.js';
import { startLogin } from './login.js';
import { logout } from './logout.js';
import { handlePostLogoutCallback } from './logout-callback.js';
import { resolveSessionProvider } from './request-login.js';
import { looksLikeRequest, prefersHtml, preventCaching, sendUnauthenticated } from './respond.js';
import { createRuntime, type SigninRuntime } from './runtime.js';
import { getLogin } from './session.js';
import { silentLogin, silentLoginPossible } from './silent-login.js';
import { throttleSessionTouch } from './throttle-touch.js';

function pathOf(req: Request): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function queryParam(req: Request, name: string): string | undefined {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined;
}

/** Drop a login older than the absolute session lifetime, whatever the session's idle timeout says. */
function enforceAbsoluteDuration(rt: SigninRuntime, req: Request): void {
  const login = getLogin(req);
  if (login !== undefined && Date.now() - login.createdAt > rt.config.absoluteDuration * 1000) {
    delete req.session.portcullis;
  }
}

/** Refresh this close to expiry too, so that the route does not call an API with a dying token. */
const AUTO_REFRESH_LEEWAY_SECONDS = 5;

/** Whether the session's access token expires within the leeway and a refresh token is at hand. */
function refreshDue(req: Request): boolean {
  const expiresAt = req.oidc.accessToken?.expires_at;
  if (expiresAt === undefined || req.oidc.refreshToken === undefined) return false;
  return expiresAt - Math.floor(Date.now() / 1000) <= AUTO_REFRESH_LEEWAY_SECONDS;
}

async function autoRefresh(req: Request): Promise<void> {
  if (!refreshDue(req)) return;
  try {
    await req.oidc.refresh();
  } catch (err) {
    // The refresh token is no good any more: the user is signed out rather than left half-signed-in.
    if (err instanceof PortcullisError && !(err instanceof IdpUnavailableError) && err.status < 500) {
      delete req.session.portcullis;
      return;
    }
    throw err;
  }
}

/**
 * With several providers, the callback and back-channel logout routes have one path per provider:
 * `route/<id>` gives the id, `route` itself `''`; any other path `undefined`. One IdP: `route` only.
 */
function providerPath(rt: SigninRuntime, path: string, route: string): string | undefined {
  if (path === route) return '';
  if (!rt.providers.multi || !path.startsWith(`${route}/`)) return undefined;
  const id = path.slice(route.length + 1);
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}

/** The handler of one of auth()'s own routes, when the request is for one. */
function ownRoute(rt: SigninRuntime, req: Request, res: Response): (() => Promise<void>) | undefined {
  const { routes } = rt.config;
  const path = pathOf(req);
  const method = req.method;
  const withReturnTo = () => {
    const returnTo = queryParam(req, 'returnTo');
    return returnTo === undefined ? {} : { returnTo };
  };
  if (path === routes.login && (method === 'GET' || method === 'HEAD')) {
    // `?provider=` picks one of several providers; a single IdP ignores it, as it always did.
    const provider = rt.providers.multi ? queryParam(req, 'provider') : undefined;
    return () =>
      startLogin(rt, req, res, { ...withReturnTo(), ...(provider === undefined ? {} : { provider }) });
  }
  if (path === routes.logout && (method === 'GET' || method === 'POST')) {
    return () => logout(rt, req, res, withReturnTo());
  }
  if (path === routes.postLogoutCallback && method === 'GET') {
    return () => handlePostLogoutCallback(rt, req, res);
  }
  const callback = providerPath(rt, path, routes.callback);
  if (callback !== undefined && (method === 'GET' || method === 'POST')) {
    return () => handleCallback(rt, req, res, callback === '' ? undefined : callback);
  }
  const backchannel = rt.config.backchannelLogout
    ? providerPath(rt, path, routes.backchannelLogout)
    : undefined;
  if (backchannel !== undefined && method === 'POST') {
    return () => handleBackchannelLogout(rt, req, res, backchannel === '' ? undefined : backchannel);
  }
  return undefined;
}

async function route(res: Response, handler: (() => Promise<void>) | undefined): Promise<boolean> {
  if (handler === undefined) return false;
  // Set first, so that the app's error page for a failed callback or logout is not cached either.
  preventCaching(res);
  await handler();
  return true;
}

/**
 * Sign users in with OpenID Connect (Authorization Code + PKCE). Mount express-session first.
 *
 * Several IdPs: `providers` (by id, `GET /login?provider=<id>`) or `resolveProvider` (dynamic tenants);
 * each provider's callback is `routes.callback/<id>`, and an answer at another provider's path than its
 * login's is refused as a mix-up (RFC 9700 §4.4).
 *
 * @example
 * ```ts
 * app.use(session({ secret, resave: false, saveUninitialized: false }));
 * app.use(auth({ issuerBaseURL: 'https://idp.example.com', baseURL: 'https://app.example.com',
 *   clientID: 'app', clientSecret: process.env.CLIENT_SECRET }));
 * app.get('/profile', requiresAuth(), (req, res) => res.json(req.oidc.user));
 * ```
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 */
export function auth(options?: AuthOptions): RequestHandler {
  if (looksLikeRequest(options)) {
    throw new TypeError('auth() must be called with its options: app.use(auth({ ... })), not app.use(auth)');
  }
  const rt = createRuntime(signinConfig(options));
  /** The store last seen, wrapped in throttleTouch() (sessionTouchInterval) when it could be. */
  let throttledStore: unknown;

  function authMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (req.session === undefined || req.sessionStore === undefined) {
      next(
        new PortcullisError(
          'ERR_SESSION_MISSING',
          'express-session must be mounted before auth(): app.use(session({ ... })) comes first',
          { status: 500 },
        ),
      );
      return;
    }
    if (req.sessionStore !== throttledStore) {
      throttleSessionTouch(req.sessionStore, rt.config.sessionTouchInterval);
      throttledStore = req.sessionStore; // one comparison per request after the first
    }
    const state = attachContexts(req, res, next, rt);
    enforceAbsoluteDuration(rt, req);
    let resolving: Promise<void> | undefined;
    try {
      resolving = resolveSessionProvider(rt, req, state);
    } catch (err) {
      next(err);
      return;
    }

    const handler = ownRoute(rt, req, res);
    // Most requests are for the app's own pages with nothing to wait for: on to them in this tick,
    // without a promise (the provider is known, no route of ours, no refresh, no login to start,
    // silent or not). silentLoginPossible() comes last: it is asked exactly when the rest say go on.
    const waits =
      resolving !== undefined ||
      handler !== undefined ||
      (rt.config.autoRefresh && refreshDue(req)) ||
      (rt.config.authRequired && !req.oidc.isAuthenticated()) ||
      silentLoginPossible(rt, req, state);
    if (!waits) {
      if (rt.config.authRequired && rt.config.noStore) preventCaching(res);
      next();
      return;
    }

    (async () => {
      if (resolving !== undefined) await resolving; // only resolveProvider makes this wait
      if (await route(res, handler)) return;
      if (rt.config.autoRefresh) await autoRefresh(req);
      if (rt.config.authRequired && !req.oidc.isAuthenticated()) {
        if (prefersHtml(req)) await startLogin(rt, req, res, { returnTo: req.originalUrl ?? req.url });
        else sendUnauthenticated(res, rt.config.routes.login);
        return;
      }
      if (rt.config.authRequired && rt.config.noStore) preventCaching(res);
      if (await silentLogin(rt, req, res)) return;
      next();
    })().catch((err: unknown) => {
      if (err instanceof IdpUnavailableError && !res.headersSent)
        res.setHeader('retry-after', String(err.retryAfter));
      next(err);
    });
  }
  // For tests and diagnostics only: the runtime behind this middleware (its providers' cache).
  Object.defineProperty(authMiddleware, Symbol.for('portcullis.signinRuntime'), { value: rt });
  return authMiddleware;
}
