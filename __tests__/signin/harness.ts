/** An Express app with express-session and auth() against the test IdP, on Express 4 or 5. */
import type { ErrorRequestHandler, Express, RequestHandler } from 'express';
import express5 from 'express';
import session from 'express-session';
import express4 from 'express4';
import { type AuthOptions, auth, type ProviderOptions, requiresAuth } from '../../lib/index.js';
import type { SigninRuntime } from '../../lib/signin/runtime.js';
import { type RunningApp, startApp } from '../helpers/app.js';
import { type Hop, signInAtIdp, TestBrowser } from '../helpers/browser.js';
import { type TestIdp, WEB_SECRET } from '../helpers/idp.js';

export const EXPRESS = [
  ['Express 5', express5],
  ['Express 4', express4],
] as const;

export type ExpressFactory = () => Express;

/**
 * The Express every sign-in suite runs on: 5 by default, 4 with PORTCULLIS_TEST_EXPRESS=4
 * (`npm run test:express4` runs the whole sign-in folder again on Express 4).
 */
export const defaultExpress = (process.env['PORTCULLIS_TEST_EXPRESS'] === '4'
  ? express4
  : express5) as unknown as ExpressFactory;

export interface SigninApp extends RunningApp {
  store: session.MemoryStore;
  errors: Array<{ code?: string; status?: number; message: string }>;
  /** The auth() middleware itself (its runtime is behind Symbol.for('portcullis.signinRuntime')). */
  authMiddleware: RequestHandler | undefined;
}

export const errorHandler =
  (errors: SigninApp['errors']): ErrorRequestHandler =>
  (err, _req, res, _next) => {
    errors.push({ code: err.code, status: err.status, message: String(err.message) });
    res
      .status(typeof err.status === 'number' ? err.status : 500)
      .json({ code: err.code, message: err.message });
  };

export interface AppOptions {
  port?: number;
  store?: session.Store;
  express?: ExpressFactory;
  options?: Partial<AuthOptions> | ((baseURL: string) => Partial<AuthOptions>);
  before?: (app: Express) => void;
  routes?: (app: Express) => void;
}

/** An app with express-session, `auth(authOptions(baseURL))` and the test routes. */
export async function startAuthApp(
  authOptions: (baseURL: string) => AuthOptions,
  { express = defaultExpress, before, routes, store: customStore, port = 0 }: AppOptions,
): Promise<SigninApp> {
  const store = (customStore ?? new session.MemoryStore()) as session.MemoryStore;
  const errors: SigninApp['errors'] = [];
  let authMiddleware: RequestHandler | undefined;
  const running = await startApp((baseURL) => {
    const app = express();
    app.use(
      session({ secret: 'test-session-secret', resave: false, saveUninitialized: false, store, name: 'sid' }),
    );
    before?.(app);
    authMiddleware = auth(authOptions(baseURL));
    app.use(authMiddleware);
    app.get('/me', (req, res) => {
      const at = req.oidc.accessToken;
      res.json({
        authenticated: req.oidc.isAuthenticated(),
        provider: req.oidc.provider,
        user: req.oidc.user,
        claims: req.oidc.idTokenClaims,
        scope: at?.scope,
        token_type: at?.token_type,
        expires_at: at?.expires_at,
        expired: at?.isExpired(),
        hasRefreshToken: req.oidc.refreshToken !== undefined,
        sessionID: req.sessionID,
      });
    });
    app.get('/count', (req, res) => {
      const data = req.session as unknown as { views?: number };
      data.views = (data.views ?? 0) + 1;
      res.json({ views: data.views });
    });
    app.get('/profile', requiresAuth(), (req, res) => {
      res.json({ user: req.oidc.user });
    });
    app.get('/admin-login', (_req, res) => {
      void res.oidc.login({
        returnTo: '/admin',
        authorizationParams: { prompt: 'login', login_hint: 'bob' },
      });
    });
    app.post('/refresh', async (req, res, next) => {
      try {
        const token = await req.oidc.refresh();
        res.json({ expires_at: token?.expires_at, scope: token?.scope });
      } catch (err) {
        next(err);
      }
    });
    app.get('/userinfo', async (req, res, next) => {
      try {
        res.json(await req.oidc.fetchUserInfo());
      } catch (err) {
        next(err);
      }
    });
    routes?.(app);
    app.use(errorHandler(errors));
    return app;
  }, port);
  return { ...running, store, errors, authMiddleware };
}

/** What the app's auth() shares across requests: its providers (the registry), its stores. */
export function signinRuntime(app: SigninApp): SigninRuntime {
  return (app.authMiddleware as unknown as Record<symbol, SigninRuntime>)[
    Symbol.for('portcullis.signinRuntime')
  ]!;
}

const extra = (options: AppOptions['options'], baseURL: string) =>
  typeof options === 'function' ? options(baseURL) : (options ?? {});

export async function startSigninApp(
  idp: Pick<TestIdp, 'issuer'> & { allowApp?: (baseURL: string) => void },
  appOptions: AppOptions = {},
): Promise<SigninApp> {
  return startAuthApp((baseURL) => {
    idp.allowApp?.(baseURL);
    return {
      issuerBaseURL: idp.issuer,
      baseURL,
      clientID: 'web',
      clientSecret: WEB_SECRET,
      authorizationParams: { scope: 'openid profile email offline_access' },
      ...extra(appOptions.options, baseURL),
    };
  }, appOptions);
}

/**
 * An app with several providers, one per IdP (`web` client at each): `auth({ baseURL, providers })`.
 * Each IdP accepts its provider's own callback, `/callback/<id>`, and nothing else.
 */
export async function startProvidersApp(
  idps: Record<string, Pick<TestIdp, 'issuer'> & { allowApp?: TestIdp['allowApp'] }>,
  appOptions: AppOptions & { provider?: (id: string) => Partial<ProviderOptions> } = {},
): Promise<SigninApp> {
  return startAuthApp((baseURL) => {
    const providers: Record<string, ProviderOptions> = {};
    for (const [id, idp] of Object.entries(idps)) {
      idp.allowApp?.(baseURL, [`/callback/${id}`]);
      providers[id] = {
        issuerBaseURL: idp.issuer,
        clientID: 'web',
        clientSecret: WEB_SECRET,
        ...appOptions.provider?.(id),
      };
    }
    return {
      baseURL,
      providers,
      authorizationParams: { scope: 'openid profile email offline_access' },
      ...extra(appOptions.options, baseURL),
    };
  }, appOptions);
}

/** Log in from the app's /login through the IdP's real pages; returns the callback's answer. */
export async function loginAs(
  browser: TestBrowser,
  app: RunningApp,
  { login = 'alice', returnTo, query = '' }: { login?: string; returnTo?: string; query?: string } = {},
) {
  const loginUrl = `${app.baseURL}/login${returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`}${query}`;
  const start = await browser.get(loginUrl);
  if (start.status !== 302 || start.location === undefined) {
    throw new Error(`login did not redirect: ${start.status} ${start.body}`);
  }
  const { callback, result } = await signInAtIdp(browser, start.location, { login });
  return { start, callback, result: result! };
}

/**
 * A browser whose requests are page views, as browsers mark them: `Sec-Fetch-Dest: document` (Node's
 * fetch, under TestBrowser, always sends `Sec-Fetch-Mode: cors`, which alone marks a script's request).
 */
export function pageBrowser(): TestBrowser {
  const browser = new TestBrowser();
  browser.headers = { ...browser.headers, 'sec-fetch-dest': 'document' };
  return browser;
}

/** The browser's trips to the IdP at `issuer` with `prompt=none` (silent logins). */
export function silentTrips(browser: TestBrowser, issuer: string): Hop[] {
  return browser.history.filter((hop) => {
    const url = new URL(hop.url);
    return url.origin === issuer && url.searchParams.get('prompt') === 'none';
  });
}

export { TestBrowser };
