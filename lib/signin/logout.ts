/**
 * Logout, as named steps:
 *
 *   endSessionUrl    with the session's provider's `idpLogout`: that IdP's `end_session_endpoint` with
 *                    `id_token_hint`, `post_logout_redirect_uri` (routes.postLogoutCallback) and a
 *                    fresh `state` (RP-Initiated Logout 1.0 §2); an unreachable IdP skips this step
 *   revokeTokens     with the provider's `revokeOnLogout`, beside the step above: the refresh and access
 *                    tokens revoked at the IdP (RFC 7009), within httpTimeout, failures only logged
 *                    (revoke-on-logout.ts)
 *   saveLogout       the state and `returnTo`, single use, tied to this browser (logout-callback.ts)
 *   destroySession   always: an IdP that is down does not keep the user signed in here
 *   skipSilentLogin  no silent login for this browser now (silent-login.ts): it would sign the user in again
 *   redirect         to the IdP, or straight to `returnTo`
 */
import type { Request, Response } from 'express';
import * as oauth from 'oauth4webapi';
import { inSpan, type SpanHandle } from '../protocol/observability/spans.js';
import { requestLogin } from './request-login.js';
import { redirect } from './respond.js';
import { safeReturnTo } from './return-to.js';
import { revokeOnLogout } from './revoke-on-logout.js';
import type { ProviderRuntime, SigninRuntime } from './runtime.js';
import { destroySession } from './session.js';
import { cancelSilentLogin } from './silent-login.js';
import { providerFields } from './telemetry.js';

export interface LogoutOptions {
  /** A same-origin path to land on after logout. @default the `postLogoutRedirect` option */
  returnTo?: string;
}

async function endSessionUrl(
  rt: SigninRuntime,
  provider: ProviderRuntime,
  idToken: string,
  state: string,
): Promise<URL | undefined> {
  const base = provider.config.baseURL.href.replace(/\/$/, '');
  try {
    return await provider.client.endSessionUrl(idToken, base + rt.config.routes.postLogoutCallback, state);
  } catch {
    // IdP unreachable: the local logout still happens.
    return undefined;
  }
}

/** Log out (the `/logout` route, `res.oidc.logout()`), in its span; `signin.logout.completed` once done. */
export function logout(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  options: LogoutOptions = {},
): Promise<void> {
  return inSpan('portcullis.signin.logout', {}, (span) => logoutSteps(rt, req, res, options, span));
}

async function logoutSteps(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  options: LogoutOptions,
  span: SpanHandle | undefined,
): Promise<void> {
  const { config } = rt;
  const returnTo = safeReturnTo(options.returnTo, config.baseURL) ?? config.postLogoutRedirect;
  const current = requestLogin(req);
  const revoking = current?.provider.config.revokeOnLogout
    ? revokeOnLogout(rt, current.provider, current.login.tokens)
    : undefined;
  const about = current === undefined ? {} : providerFields(current.provider, span);
  let target = returnTo;
  if (current?.provider.config.idpLogout) {
    const state = oauth.generateRandomState();
    const end = await endSessionUrl(rt, current.provider, current.login.tokens.id_token, state);
    if (end !== undefined) {
      await rt.logouts.save(req.sessionStore, req, res, state, { returnTo });
      target = end.href;
    }
  }
  await revoking; // never rejects, and bounded by httpTimeout
  if (req.session !== undefined) {
    delete req.session.portcullis;
    await destroySession(req);
  }
  cancelSilentLogin(rt, res);
  redirect(res, target);
  const idpLogout = target !== returnTo;
  span?.setAttribute('portcullis.idp_logout', idpLogout);
  rt.emit({ type: 'signin.logout.completed', ...about, idpLogout });
}
