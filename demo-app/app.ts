/**
 * The demo app: the three products together, used exactly as a user would (imports from
 * 'portcullis'). Web pages signed in with auth(), an orders API protected with bearer(), and a worker
 * that calls the API with serviceAgent() through axios.
 */
import axios from 'axios';
import { csrfSync } from 'csrf-sync';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import {
  type AuthOptions,
  auth,
  bearer,
  type DpopReplayStore,
  requireScope,
  requiresAuth,
  serviceAgent,
} from 'portcullis';
import { metricsPage } from './debug-metrics.js';
import type { DemoTelemetry } from './telemetry.js';
import * as views from './views.js';

export interface DemoConfig {
  baseURL: string;
  issuer: string;
  /**
   * A second IdP, Partner Co.'s (built in, unless ISSUER_BASE_URL names an IdP of yours): users sign
   * in at either (`providers`), and the orders API accepts both IdPs' tokens (`issuers`).
   */
  partner?: { issuer: string; client: { id: string; secret: string } } | undefined;
  webClient: { id: string; secret: string };
  workerClient: { id: string; secret: string };
  apiAudience: string;
  responseMode: 'query' | 'form_post';
  /** DPoP-bound tokens (RFC 9449) for users and the worker; the API accepts both kinds either way. */
  dpop: boolean;
  sessionStore?: session.Store | undefined;
  /** With Redis: DPoP proofs seen by any process of the fleet are refused by all. */
  dpopReplayStore?: DpopReplayStore | undefined;
  sessionSecret: string;
  /** With `OTEL=console`: the SDK the demo registered, whose metrics /debug/metrics shows. */
  telemetry?: DemoTelemetry | undefined;
}

declare module 'express-session' {
  interface SessionData {
    apiResult?: views.ApiResult;
    /** Shown once on the next profile page (the answer to a POST is a redirect, then a GET). */
    notice?: string;
  }
}

/** A moment `days` ago at a given UTC time of day: seed orders that look placed by people, lately. */
function daysAgo(days: number, hours: number, minutes: number): string {
  const at = new Date(Date.now() - days * 86_400_000);
  at.setUTCHours(hours, minutes, 0, 0);
  return at.toISOString();
}

/** The orders API: GET needs orders:read, POST needs orders:write. */
function ordersApi(config: DemoConfig): express.Router {
  const orders: views.Order[] = [
    { id: 1, item: 'Portcullis (oak, 3 m)', by: 'alice', at: daysAgo(9, 9, 42) },
    { id: 2, item: 'Murder-hole covers (set of 4)', by: 'bob', at: daysAgo(2, 15, 7) },
  ];
  const api = express.Router();
  // baseURL turns DPoP on: proofs are checked against this public URL, never the Host header.
  // With the partner's IdP, a token's `iss` picks which IdP's keys check it; any other is refused unread.
  const idps =
    config.partner === undefined
      ? { issuerBaseURL: config.issuer }
      : { issuers: [{ issuerBaseURL: config.issuer }, { issuerBaseURL: config.partner.issuer }] };
  api.use(
    bearer({
      ...idps,
      audience: config.apiAudience,
      baseURL: config.baseURL,
      ...(config.dpopReplayStore === undefined ? {} : { dpop: { replayStore: config.dpopReplayStore } }),
    }),
  );
  api.get('/orders', requireScope('orders:read'), (_req, res) => {
    res.json({ orders });
  });
  api.post('/orders', requireScope('orders:write'), (req, res) => {
    const order = {
      id: orders.length + 1,
      item: 'Drawbridge chain',
      by: String(req.auth?.payload['sub']),
      at: new Date().toISOString(),
    };
    orders.push(order);
    res.status(201).json({ order });
  });
  // An API answers an unknown path in JSON, not with the app's HTML 404 page.
  api.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  return api;
}

/** Where users sign in: the one IdP, or the demo's own (`main`) and Partner Co.'s (`partner`). */
function signIn(config: DemoConfig): AuthOptions {
  const shared: AuthOptions = {
    baseURL: config.baseURL,
    idpLogout: true,
    dpop: config.dpop,
    authorizationParams: {
      scope: 'openid profile email offline_access orders:read orders:write',
      resource: config.apiAudience,
      response_mode: config.responseMode,
    },
  };
  const main = {
    issuerBaseURL: config.issuer,
    clientID: config.webClient.id,
    clientSecret: config.webClient.secret,
  };
  if (config.partner === undefined) return { ...shared, ...main };
  const partner = {
    issuerBaseURL: config.partner.issuer,
    clientID: config.partner.client.id,
    clientSecret: config.partner.client.secret,
  };
  return { ...shared, providers: { main, partner }, defaultProvider: 'main' };
}

/** The provider chooser of the home page: one login link per IdP. */
function providerChoices(config: DemoConfig): views.ProviderChoice[] | undefined {
  return config.partner === undefined
    ? undefined
    : [
        { id: 'main', label: 'the demo IdP' },
        { id: 'partner', label: 'Partner Co.' },
      ];
}

export function createDemoApp(config: DemoConfig): express.Express {
  const app = express();
  const issuerOrigins = [config.issuer, ...(config.partner === undefined ? [] : [config.partner.issuer])].map(
    (issuer) => new URL(issuer).origin,
  );
  const secure = config.baseURL.startsWith('https:');
  app.set('trust proxy', false);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'script-src': ["'none'"],
          'style-src': ["'self'"],
          // The logout form redirects on to the IdP's end-session page.
          'form-action': ["'self'", ...issuerOrigins],
          'upgrade-insecure-requests': secure ? [] : null,
        },
      },
      strictTransportSecurity: secure,
    }),
  );
  app.use('/static', express.static(new URL('./public', import.meta.url).pathname, { maxAge: '1h' }));

  // The API is stateless: bearer tokens, no session, no CSRF (no cookies are read).
  app.use('/api', express.json(), ordersApi(config));

  app.use(
    session({
      secret: config.sessionSecret,
      store: config.sessionStore,
      resave: false,
      saveUninitialized: false,
      name: 'demo.sid',
      cookie: { httpOnly: true, sameSite: 'lax', secure },
    }),
  );
  app.use(express.urlencoded({ extended: false, limit: '16kb' }));

  // csrf-sync on every form. The IdP's form_post to /callback (/callback/<provider> with two IdPs)
  // cannot carry our token; auth() checks it with state and the PKCE verifier instead, so those
  // paths are left to auth().
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: (req) => (req.body as Record<string, string> | undefined)?.['_csrf'],
    skipCsrfProtection: (req) => req.path === '/callback' || req.path.startsWith('/callback/'),
  });
  app.use(csrfSynchronisedProtection);

  // auth() logs out on GET /logout too (its contract); this app wants a POST with the CSRF token, so
  // that a link or an <img> on another site cannot log its users out. GET gets a page with that form.
  app.get('/logout', (req, res) => {
    res.status(405).set('allow', 'POST');
    res.send(views.logoutPage({ title: 'Log out', csrfToken: generateToken(req) }));
  });

  app.use(auth(signIn(config)));

  // With two IdPs, the profile says which one the user signed in with.
  const choices = providerChoices(config);
  const page = (req: Request, title: string) => ({
    title,
    user: req.oidc.user,
    provider: choices?.find((choice) => choice.id === req.oidc.provider),
    csrfToken: generateToken(req),
  });

  app.get('/', (req, res) => {
    res.send(views.home({ ...page(req, 'Home'), providers: choices }));
  });

  app.get('/profile', requiresAuth(), (req, res) => {
    const token = req.oidc.accessToken;
    const { apiResult, notice } = req.session;
    delete req.session.apiResult;
    delete req.session.notice;
    res.send(
      views.profile({
        ...page(req, 'Profile'),
        claims: req.oidc.user ?? {},
        expiresAt: token?.expires_at,
        tokenType: token?.token_type,
        scopes: token?.scope?.split(' ').filter(Boolean) ?? [],
        apiResult,
        notice,
      }),
    );
  });

  app.post('/refresh', requiresAuth(), async (req, res) => {
    const token = await req.oidc.refresh();
    req.session.notice = `Tokens refreshed: the access token now expires at ${views.expiry(token?.expires_at)}.`;
    res.redirect(303, '/profile');
  });

  /** Call our own API on the user's behalf, with their access token (refreshed when it has expired). */
  async function callApi(req: Request, method: 'GET' | 'POST'): Promise<views.ApiResult> {
    const res = await req.oidc.fetch(`${config.baseURL}/api/orders`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'POST' ? '{}' : null,
    });
    const body: unknown = await res.json().catch(() => null);
    const challenge = res.headers.get('www-authenticate') ?? undefined;
    return {
      label: `${method} /api/orders`,
      status: res.status,
      message: explain(req, method, res.status, challenge),
      challenge,
      body,
    };
  }

  /** The API's answer in words; a refusal names the scope it asked for (RFC 6750 §3: `scope="..."`). */
  function explain(req: Request, method: 'GET' | 'POST', status: number, challenge?: string): string {
    const who = String(req.oidc.user?.['name'] ?? req.oidc.user?.['sub'] ?? 'You');
    const action = method === 'GET' ? 'list orders' : 'create orders';
    if (status < 400) return method === 'GET' ? 'The orders, as the API sees them:' : 'Order created:';
    const needed = /\bscope="([^"]*)"/.exec(challenge ?? '')?.[1];
    if (status === 403 && needed !== undefined) {
      return `${who} may not ${action}: the API needs the scope ${needed}, and the access token has ${req.oidc.accessToken?.scope ?? 'none'}.`;
    }
    return `The API refused to ${action} (${status}).`;
  }

  app.post('/orders/list', requiresAuth(), async (req, res) => {
    req.session.apiResult = await callApi(req, 'GET');
    res.redirect(303, '/profile');
  });
  app.post('/orders/create', requiresAuth(), async (req, res) => {
    req.session.apiResult = await callApi(req, 'POST');
    res.redirect(303, '/profile');
  });

  // The worker: a service with its own client-credentials token, through axios.
  const worker = serviceAgent({
    issuerBaseURL: config.issuer,
    clientID: config.workerClient.id,
    clientSecret: config.workerClient.secret,
    resource: config.apiAudience,
    scope: 'orders:read',
    dpop: config.dpop,
  });
  const workerApi = worker.attach(
    axios.create({ baseURL: `${config.baseURL}/api`, validateStatus: () => true }),
  );
  app.post('/worker/run', async (req, res) => {
    const answer = await workerApi.get('/orders');
    const token = await worker.getToken();
    res.send(
      views.workerPage({
        ...page(req, 'Worker'),
        apiResult: { label: 'worker GET /api/orders', status: answer.status, body: answer.data },
        tokenExpiresIn: token.expires_at - Math.floor(Date.now() / 1000),
      }),
    );
  });

  // The demo's metrics page (telemetry.ts): a page for a demo on your own machine, not for production.
  // Like the 404 page, it starts no session for a signed-out visitor (no CSRF token to keep).
  app.get('/debug/metrics', async (req, res) => {
    const ctx = req.oidc.user ? page(req, 'Metrics') : { title: 'Metrics', csrfToken: '' };
    res.send(metricsPage(ctx, await config.telemetry?.collect()));
  });

  // A signed-out visitor's 404 (a browser's /favicon.ico) must not start a session: its cookie could
  // replace the one of a login under way in another tab. The page has a form only for a signed-in user.
  app.use((req, res) => {
    const ctx = req.oidc.user ? page(req, 'Not found') : { title: 'Not found', csrfToken: '' };
    res.status(404).send(views.notFound({ ...ctx, path: req.path }));
  });

  app.use(
    (
      err: { status?: number; code?: string; message?: string },
      req: Request,
      res: Response,
      _next: NextFunction,
    ) => {
      const status = typeof err.status === 'number' && err.status >= 400 ? err.status : 500;
      res.status(status).send(
        views.errorPage({
          title: 'Error',
          user: req.oidc?.user,
          csrfToken: req.session ? generateToken(req) : '',
          status,
          code: err.code ?? 'ERR_UNEXPECTED',
          message: status < 500 || err.code !== undefined ? String(err.message) : 'unexpected error',
        }),
      );
    },
  );
  return app;
}
