/**
 * `requiresAuth()`: a signed-in user passes; a browser is sent to log in and brought back; an API
 * client (no `text/html` in `Accept`) gets a 401 JSON answer instead of a redirect.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PortcullisError } from '../errors.js';
import { prefersHtml, sendJson } from './respond.js';

/** Options of `requiresAuth()`; none yet, reserved for step-up (`acrValues`, `maxAge`). */
export type RequiresAuthOptions = Record<string, never>;

export function requiresAuth(options?: RequiresAuthOptions): RequestHandler {
  if (options !== undefined && typeof options === 'object' && options !== null && 'headers' in options) {
    throw new TypeError('requiresAuth() must be called: use app.get(path, requiresAuth(), handler)');
  }
  return function requiresAuthMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (req.oidc === undefined) {
      next(
        new PortcullisError('ERR_SESSION_MISSING', 'auth() must be mounted before requiresAuth()', {
          status: 500,
        }),
      );
      return;
    }
    if (req.oidc.isAuthenticated()) {
      next();
      return;
    }
    if (prefersHtml(req)) {
      // Only a GET can be replayed by coming back to it; a form POST comes back to the home page.
      const replayable = req.method === 'GET' || req.method === 'HEAD';
      void res.oidc.login(replayable ? { returnTo: req.originalUrl ?? req.url } : {});
      return;
    }
    sendJson(res, 401, { error: 'unauthorized', error_description: 'authentication required' });
  };
}
