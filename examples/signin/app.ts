/**
 * Sign-in only: users log in at your IdP and come back signed in. express-session keeps the session
 * (the tokens stay on the server; the browser holds only the session cookie), auth() mounts /login,
 * /callback, /logout and /logout/callback, and requiresAuth() guards the profile.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { auth, requiresAuth } from 'portcullis';

export interface SigninExampleOptions {
  /** Your IdP: discovery reads `<issuerBaseURL>/.well-known/openid-configuration`. */
  issuerBaseURL: string;
  /** This app's public URL: the IdP sends users back to `<baseURL>/callback`. */
  baseURL: string;
  clientID: string;
  clientSecret: string;
  /** Signs the session cookie: a long random string, the same in every process. */
  sessionSecret: string;
  /** express-session's MemoryStore (the default) is for one process in development only. */
  sessionStore?: session.Store | undefined;
}

export function createApp(options: SigninExampleOptions): express.Express {
  const app = express();
  app.use(
    session({
      secret: options.sessionSecret,
      store: options.sessionStore,
      resave: false,
      saveUninitialized: false,
      // Lax: the cookie goes with the IdP's redirect back to /callback, not with cross-site POSTs.
      cookie: { httpOnly: true, sameSite: 'lax', secure: options.baseURL.startsWith('https:') },
    }),
  );
  app.use(
    auth({
      issuerBaseURL: options.issuerBaseURL,
      baseURL: options.baseURL,
      clientID: options.clientID,
      clientSecret: options.clientSecret,
      // Log out at the IdP too; it sends the browser back to <baseURL>/logout/callback, then to '/'.
      idpLogout: true,
      authorizationParams: { scope: 'openid profile email' },
    }),
  );

  app.get('/', (req, res) => {
    const user = req.oidc.user;
    if (user === undefined) {
      res.send(page('Home', '<p>You are not signed in.</p><p><a href="/login">Log in</a></p>'));
      return;
    }
    const name = esc(String(user['name'] ?? user['sub']));
    res.send(page('Home', `<p>Hello, ${name}.</p><p><a href="/profile">Your profile</a></p>${logoutButton}`));
  });

  // Not signed in: a browser is sent to log in and brought back here; an API client gets a 401.
  app.get('/profile', requiresAuth(), (req, res) => {
    const claims = JSON.stringify(req.oidc.user, null, 2);
    res.send(page('Profile', `<pre>${esc(claims)}</pre><p><a href="/">Home</a></p>${logoutButton}`));
  });

  app.use(errorHandler);
  return app;
}

// POST, so that another site cannot log your users out with a link: the SameSite=Lax session
// cookie does not go with a cross-site POST.
const logoutButton = '<form method="post" action="/logout"><button>Log out</button></form>';

/**
 * portcullis passes sign-in failures to next() as errors with a stable `code` and an HTTP `status`.
 * Match on `code` rather than `instanceof`: codes survive two copies of the package in one app.
 */
function isPortcullisError(err: unknown): err is Error & { code: string; status: number } {
  return (
    err instanceof Error &&
    'code' in err &&
    typeof err.code === 'string' &&
    'status' in err &&
    typeof err.status === 'number'
  );
}

function errorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
  } else if (isPortcullisError(err)) {
    // Messages say what went wrong and never hold a token or secret. A 5xx one names the IdP's URL
    // (ERR_IDP_UNAVAILABLE, ERR_DISCOVERY_FAILED): helpful here, perhaps only for your logs in production.
    if (err.status >= 500) console.error(err);
    const body = `<p><code>${esc(err.code)}</code></p><p>${esc(err.message)}</p><p><a href="/">Home</a></p>`;
    res.status(err.status).send(page('Sign-in failed', body));
  } else {
    console.error(err);
    res.status(500).send(page('Error', '<p>Something went wrong.</p>'));
  }
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
