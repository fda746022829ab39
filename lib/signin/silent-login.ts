/**
 * Silent login (`attemptSilentLogin`): a browser without a login goes to the IdP once with
 * `prompt=none` (OpenID Connect Core §3.1.2.1) and comes back to the page it asked for, signed in when
 * it has a session at the IdP, signed out with no error when the IdP would have to ask the user
 * something. As named steps:
 *
 *   isPageView      a GET navigation to an HTML page: not HEAD or another method, not an API call
 *                   (`Accept` without text/html), not XHR or fetch, not a frame (`X-Requested-With`; a
 *                   `Sec-Fetch-Dest` other than `document`, or without one a `Sec-Fetch-Mode` other than
 *                   `navigate`), not a prefetch (`Sec-Purpose`, `Purpose`)
 *   noLogin         the session holds no login at all: a login of another tenant's provider is not
 *                   replaced behind the user's back
 *   providerToTry   the provider a login here would use, with `attemptSilentLogin` on; no default
 *                   provider, or none for this request: nothing is tried
 *   notTriedYet     the skip cookie names neither this provider nor `*`
 *   markTried       the skip cookie names it, set before anything is sent: whatever the IdP answers,
 *                   even nothing, this browser is not sent again in this browser session
 *   startLogin      a login with `prompt=none` back to this very URL, its pending login marked silent;
 *                   an IdP that cannot be reached is a warning, and the page is served signed out
 *
 * At the callback, {@link isSilentRefusal}: a silent login answered `login_required`,
 * `consent_required`, `interaction_required` or `account_selection_required` (Core §3.1.2.6), after
 * its `state` and `iss` were checked, sends the user back to the page signed out; any other answer is
 * handled as for any login. A completed login clears the cookie (a session that ends later may be
 * renewed silently again); logout sets it to `*`, so that a user who just logged out is not signed
 * straight back in. The cookie holds provider ids only (at most 16, else `*`), no secret.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SigninConfig } from '../config/signin.js';
import { OAuthResponseError, PortcullisError } from '../errors.js';
import { isLoopbackHost } from '../protocol/url-policy.js';
import { appendSetCookie, readCookie, serializeCookie } from './cookies.js';
import { startLogin } from './login.js';
import { type RequestState, stateOf } from './request-state.js';
import { looksLikeRequest, prefersHtml } from './respond.js';
import type { ProviderRuntime, SigninRuntime } from './runtime.js';
import { getLogin } from './session.js';
import type { PendingLogin } from './transaction.js';

const COOKIE = 'portcullis.skipSilentLogin';
const ALL = '*';
const MAX_IDS = 16;
const TRIED = /^(?:\*|[A-Za-z0-9_-]{1,64}(?:\.[A-Za-z0-9_-]{1,64}){0,15})$/;

/** The IdP's answers that mean "the user would have to be asked" (OpenID Connect Core §3.1.2.6). */
const NEEDS_INTERACTION = new Set([
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
]);

/** Set once `attemptSilentLogin()` is used on a route: logouts then mark the browser too. */
let routeLevelInUse = false;

function configured(config: SigninConfig): boolean {
  const { providers } = config;
  // resolveProvider: only auth()'s own option makes the resolver be asked on anonymous page views.
  if (providers.kind === 'resolved') return providers.defaults.attemptSilentLogin;
  for (const provider of providers.byId.values()) if (provider.attemptSilentLogin) return true;
  return false;
}

function isPageView(req: Request): boolean {
  if (req.method !== 'GET' || !prefersHtml(req)) return false;
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value.toLowerCase() : undefined;
  };
  if (header('x-requested-with') !== undefined) return false;
  if (/prefetch|prerender/.test(`${header('sec-purpose') ?? ''} ${header('purpose') ?? ''}`)) return false;
  // Browsers say what a request is for: `document` for a page, `empty` for fetch and XHR, `iframe`...
  const dest = header('sec-fetch-dest');
  if (dest !== undefined) return dest === 'document';
  // ...and without that, how: a client whose mode is not `navigate` (Node's fetch says `cors`) is no page view.
  const mode = header('sec-fetch-mode');
  return mode === undefined || mode === 'navigate';
}

/** The provider ids this browser was sent to already, or `*`. */
function tried(req: Request): string[] | typeof ALL {
  const value = readCookie(req, COOKIE, TRIED);
  if (value === undefined) return [];
  return value === ALL ? ALL : value.split('.');
}

function setCookie(rt: SigninRuntime, res: Response, value: string, maxAge?: number): void {
  const { baseURL } = rt.config;
  appendSetCookie(
    res,
    serializeCookie(COOKIE, value, {
      path: baseURL.pathname.endsWith('/') ? baseURL.pathname : `${baseURL.pathname}/`,
      maxAge,
      secure: baseURL.protocol === 'https:' || isLoopbackHost(baseURL.hostname),
      sameSite: 'Lax',
    }),
  );
}

/** Add `id` to the providers tried; past the cookie's room, every provider counts as tried. */
function markTried(rt: SigninRuntime, res: Response, before: readonly string[], id: string): void {
  const ids = [...before, id];
  setCookie(rt, res, ids.length > MAX_IDS ? ALL : ids.join('.'));
}

async function providerToTry(
  rt: SigninRuntime,
  req: Request,
  always: boolean,
): Promise<ProviderRuntime | undefined> {
  if (!always && !configured(rt.config)) return undefined;
  try {
    const provider = await rt.providers.forLogin(req, undefined);
    return always || provider.config.attemptSilentLogin ? provider : undefined;
  } catch (err) {
    // No default provider, or none for this host: a login would have to be chosen, not tried.
    if (err instanceof PortcullisError && err.code === 'ERR_UNKNOWN_PROVIDER') return undefined;
    throw err;
  }
}

/**
 * For auth()'s every request: whether auth() itself could start a silent login here; false lets
 * auth() go on without waiting for silentLogin().
 */
export function silentLoginPossible(rt: SigninRuntime, req: Request, state: RequestState): boolean {
  return configured(rt.config) && !state.silentDecided && isPageView(req) && getLogin(req) === undefined;
}

/**
 * Send this request to the IdP with `prompt=none` if it is a page view of a browser that was not sent
 * yet; true when it was (the answer is the redirect). `always`: the route-level middleware, whatever
 * the options say.
 */
export async function silentLogin(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  { always = false }: { always?: boolean } = {},
): Promise<boolean> {
  const state = stateOf(req);
  if (state === undefined || state.silentDecided || !isPageView(req) || getLogin(req) !== undefined)
    return false;
  const before = tried(req);
  if (before === ALL) return false;
  const provider = await providerToTry(rt, req, always);
  const id = provider?.config.id;
  if (id === undefined || before.includes(id)) return false;
  markTried(rt, res, before, id);
  state.silentDecided = true; // the cookie is in the answer, not yet in this request
  try {
    await startLogin(rt, req, res, { returnTo: req.originalUrl ?? req.url, provider: id }, { silent: true });
    return true;
  } catch (err) {
    if (!(err instanceof PortcullisError) || err.status < 500) throw err;
    // The IdP is down: the page is worth more than a silent login; this browser is not sent again.
    rt.config.logger.warn(
      { provider: id, code: err.code, idpUrl: err.idpUrl, idpStatus: err.idpStatus },
      `auth(): a silent login (attemptSilentLogin) was not started, and the page was served signed out: ${err.message}`,
    );
    return false;
  }
}

/** The runtime of the `auth()` that saw this request last, for the checks after it. */
export function runtimeOf(req: Request): SigninRuntime | undefined {
  return stateOf(req)?.rt;
}

/** A silent login's "the user would have to be asked": no error, back to the page signed out. */
export function isSilentRefusal(login: PendingLogin, err: unknown): boolean {
  return login.silent === true && err instanceof OAuthResponseError && NEEDS_INTERACTION.has(err.error);
}

/** A login completed: the next time this browser has no session, a silent login may be tried again. */
export function resumeSilentLogin(rt: SigninRuntime, req: Request, res: Response): void {
  if (readCookie(req, COOKIE, TRIED) !== undefined) setCookie(rt, res, '', 0);
}

/** A logout: this browser is not signed in silently again in this browser session. */
export function cancelSilentLogin(rt: SigninRuntime, res: Response): void {
  if (routeLevelInUse || configured(rt.config)) setCookie(rt, res, ALL);
}

/**
 * For one route: try a silent login here, whatever auth()'s `attemptSilentLogin` says, as
 * express-openid-connect's `attemptSilentLogin()` does; the same rules (page views only, once per
 * browser, never after logout). Mount `auth()` first.
 * @example app.get('/', attemptSilentLogin(), (req, res) => res.render('home', { user: req.oidc.user }));
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 */
export function attemptSilentLogin(...misuse: unknown[]): RequestHandler {
  if (looksLikeRequest(misuse[0])) {
    throw new TypeError(
      'attemptSilentLogin() must be called: app.get(path, attemptSilentLogin(), handler), not attemptSilentLogin',
    );
  }
  routeLevelInUse = true;
  return function attemptSilentLoginMiddleware(req: Request, res: Response, next: NextFunction): void {
    const rt = runtimeOf(req);
    if (rt === undefined) {
      next(
        new PortcullisError('ERR_SESSION_MISSING', 'auth() must be mounted before attemptSilentLogin()', {
          status: 500,
        }),
      );
      return;
    }
    silentLogin(rt, req, res, { always: true }).then((sent) => {
      if (!sent) next();
    }, next);
  };
}
