/**
 * Start a login: the provider (the one asked for, or the default), PKCE S256, a fresh `state` and
 * `nonce`, the pending login saved server-side with its provider, and a redirect to that provider's
 * authorization endpoint (OpenID Connect Core §3.1.2.1, RFC 7636).
 */
import type { Request, Response } from 'express';
import * as oauth from 'oauth4webapi';
import { type AuthorizationParams, checkAuthorizationParams } from '../config/signin.js';
import { PortcullisError } from '../errors.js';
import { generateDpopKey } from '../protocol/dpop/session-keys.js';
import { inSpan, type SpanHandle } from '../protocol/observability/spans.js';
import { redirect } from './respond.js';
import { safeReturnTo } from './return-to.js';
import type { SigninRuntime } from './runtime.js';
import { providerFields } from './telemetry.js';

export interface LoginOptions {
  /** A same-origin path to come back to after login; anything else falls back to `/`. */
  returnTo?: string;
  /** Authorization parameters for this login only, on top of the configured ones. */
  authorizationParams?: AuthorizationParams;
  /**
   * With several providers: the id of the one to sign in with (`GET /login?provider=<id>` does the
   * same). An id that is none of them is a 400 `ERR_UNKNOWN_PROVIDER`. @default `defaultProvider`
   */
  provider?: string;
}

function toSearchParams(params: AuthorizationParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.append(key, v);
    else out.set(key, String(value));
  }
  return out;
}

/**
 * The request's `Host` when it is not `baseURL`'s (`127.0.0.1:3001` against `localhost:3001`, or an
 * internal name behind a proxy): the login's cookie is set for that host and the callback, at
 * `baseURL`, will not see it. Warned about once per host; not trusted for anything else.
 */
function otherHost(rt: SigninRuntime, baseURL: URL, req: Request): string | undefined {
  const host = req.headers.host;
  if (host === undefined || host.toLowerCase() === baseURL.host) return undefined;
  if (!rt.warnedHosts.has(host) && rt.warnedHosts.size < 100) {
    rt.warnedHosts.add(host);
    rt.config.logger.warn(
      { host, baseURL: baseURL.origin },
      `auth(): a login was started at host "${host}", but baseURL is ${baseURL.origin}: the browser will not send this login's cookie there, so the callback will refuse it. Open the app at ${baseURL.origin}, or set baseURL to the address users open`,
    );
  }
  return host;
}

/** Start a login (the `/login` route, `res.oidc.login()`, `authRequired`, a step-up), in its span. */
export function startLogin(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  options: LoginOptions = {},
  { stepUp = false, silent = false }: { stepUp?: boolean; silent?: boolean } = {},
): Promise<void> {
  return inSpan('portcullis.signin.login', { 'portcullis.step_up': stepUp }, (span) =>
    login(rt, req, res, options, { stepUp, silent }, span),
  );
}

async function login(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  options: LoginOptions,
  { stepUp, silent }: { stepUp: boolean; silent: boolean },
  span: SpanHandle | undefined,
): Promise<void> {
  let perCall: AuthorizationParams;
  try {
    perCall = checkAuthorizationParams(options.authorizationParams, 'authorizationParams');
  } catch (err) {
    throw new PortcullisError('ERR_BAD_REQUEST', (err as Error).message, { status: 400 });
  }
  if (options.provider !== undefined && typeof options.provider !== 'string') {
    throw new PortcullisError('ERR_UNKNOWN_PROVIDER', '"provider" must be the id of a provider', {
      status: 400,
    });
  }
  const chosen = await rt.providers.forLogin(req, options.provider);
  const { config: provider, client } = chosen;
  const about = providerFields(chosen, span);
  // A silent login asks the IdP not to show anything (OpenID Connect Core §3.1.2.1), whatever else says `prompt`.
  const params: AuthorizationParams = {
    ...provider.authorizationParams,
    ...perCall,
    ...(silent ? { prompt: 'none' } : {}),
  };
  const returnTo = safeReturnTo(options.returnTo, provider.baseURL) ?? '/';

  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const codeVerifier = oauth.generateRandomCodeVerifier();

  const search = toSearchParams(params);
  search.set('state', state);
  search.set('nonce', nonce);
  search.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  search.set('code_challenge_method', 'S256');

  // RFC 9449 §10: `dpop_jkt` binds the authorization code to this login's key, so that a stolen
  // code cannot be redeemed with another.
  const dpopKey = provider.dpop ? generateDpopKey() : undefined;
  if (dpopKey !== undefined) search.set('dpop_jkt', dpopKey.jkt);

  const url = await client.authorizationUrl(search, {
    pushed: provider.pushedAuthorizationRequests,
    dpop: dpopKey === undefined ? undefined : await rt.dpopKeys.handle(dpopKey),
  });
  const maxAge = params.max_age === undefined ? undefined : Number(params.max_age);
  const startedAtHost = otherHost(rt, provider.baseURL, req);
  await rt.transactions.save(req.sessionStore, req, res, state, {
    provider: provider.id,
    nonce,
    codeVerifier,
    returnTo,
    responseMode: String(params.response_mode ?? 'query'),
    ...(stepUp ? { stepUp } : {}),
    ...(silent ? { silent } : {}),
    ...(dpopKey !== undefined ? { dpopKey } : {}),
    ...(maxAge !== undefined && Number.isFinite(maxAge) ? { maxAge } : {}),
    ...(startedAtHost !== undefined ? { startedAtHost } : {}),
    startedAt: Date.now(),
  });
  redirect(res, url.href);
  // `prompt=none`, from attemptSilentLogin or the app's own parameters: the IdP shows no page.
  const promptNone = params.prompt === 'none';
  span?.setAttribute('portcullis.silent', promptNone);
  rt.emit({ type: 'signin.login.started', ...about, silent: promptNone });
}
