/**
 * `requiresAuth()`: a signed-in user passes; a browser is sent to log in and brought back; an API
 * client (no `text/html` in `Accept`) gets a 401 JSON answer instead of a redirect. Its answers carry
 * `Cache-Control: no-store` (auth()'s `noStore`), so that the back button after logout shows nothing.
 *
 * With `{ acrValues, maxAge }` (step-up, RFC 9470 for sign-in): a user whose login is too weak (`acr`)
 * or too old (`auth_time`) is sent back to the IdP with `acr_values` / `max_age`; if the new login
 * still falls short, the answer is 403 `ERR_STEP_UP_FAILED`, never another round trip.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PortcullisError } from '../errors.js';
import { type AcrRequirement, acrShortfall, checkAcrRequirement } from '../protocol/acr.js';
import { noStoreWanted, startStepUp } from './context.js';
import { requestLogin } from './request-login.js';
import { prefersHtml, preventCaching, sendJson, sendUnauthenticated } from './respond.js';
import { runtimeOf } from './silent-login.js';

export interface RequiresAuthOptions {
  /** Acceptable `acr` values for this route; any one will do. */
  acrValues?: string[];
  /** Seconds since the user last authenticated (`auth_time`). */
  maxAge?: number;
}

/** How long a step-up's result counts: a shortfall within it ends in 403 instead of another login. */
const STEP_UP_WINDOW_MS = 10 * 60_000;

function stepUp(
  req: Request,
  res: Response,
  next: NextFunction,
  requirement: AcrRequirement,
  shortfall: string,
): void {
  const url = req.originalUrl ?? req.url;
  const attempt = requestLogin(req)?.login.stepUp;
  if (attempt !== undefined && attempt.returnTo === url && Date.now() - attempt.at < STEP_UP_WINDOW_MS) {
    next(
      new PortcullisError('ERR_STEP_UP_FAILED', `this page needs a stronger login: ${shortfall}`, {
        status: 403,
      }),
    );
    return;
  }
  if (!prefersHtml(req) || (req.method !== 'GET' && req.method !== 'HEAD')) {
    sendJson(res, 401, {
      error: 'insufficient_user_authentication',
      error_description: shortfall,
      ...(requirement.acrValues === undefined ? {} : { acr_values: requirement.acrValues.join(' ') }),
      ...(requirement.maxAge === undefined ? {} : { max_age: requirement.maxAge }),
    });
    return;
  }
  void startStepUp(res, {
    returnTo: url,
    authorizationParams: {
      ...(requirement.acrValues === undefined ? {} : { acr_values: requirement.acrValues.join(' ') }),
      ...(requirement.maxAge === undefined ? {} : { max_age: requirement.maxAge }),
    },
  });
}

export function requiresAuth(options?: RequiresAuthOptions): RequestHandler {
  if (options !== undefined && (typeof options !== 'object' || options === null || 'headers' in options)) {
    throw new TypeError('requiresAuth() must be called: use app.get(path, requiresAuth(), handler)');
  }
  const requirement = checkAcrRequirement(options ?? {}, 'requiresAuth()');
  const stepsUp = requirement.acrValues !== undefined || requirement.maxAge !== undefined;

  return function requiresAuthMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (req.oidc === undefined) {
      next(
        new PortcullisError('ERR_SESSION_MISSING', 'auth() must be mounted before requiresAuth()', {
          status: 500,
        }),
      );
      return;
    }
    // Whatever the answer (the page, a step-up, a login), the browser must not keep it for its back button.
    if (noStoreWanted(req)) preventCaching(res);
    if (req.oidc.isAuthenticated()) {
      const shortfall = stepsUp
        ? acrShortfall(req.oidc.idTokenClaims, requirement, Math.floor(Date.now() / 1000))
        : undefined;
      if (shortfall === undefined) next();
      else stepUp(req, res, next, requirement, shortfall);
      return;
    }
    if (prefersHtml(req)) {
      // Only a GET can be replayed by coming back to it; a form POST comes back to the home page.
      const replayable = req.method === 'GET' || req.method === 'HEAD';
      void res.oidc.login(replayable ? { returnTo: req.originalUrl ?? req.url } : {});
      return;
    }
    sendUnauthenticated(res, runtimeOf(req)?.config.routes.login ?? '/login');
  };
}
