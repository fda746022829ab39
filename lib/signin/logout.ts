/**
 * Logout: the local session is always destroyed; with `idpLogout` and an IdP that advertises an
 * `end_session_endpoint`, the user goes on to the IdP (RP-Initiated Logout 1.0) with `id_token_hint`
 * and `post_logout_redirect_uri`. An unreachable IdP does not keep the user signed in here.
 */
import type { Request, Response } from 'express';
import { redirect } from './respond.js';
import { safeReturnTo } from './return-to.js';
import type { SigninRuntime } from './runtime.js';
import { destroySession, getLogin } from './session.js';

export interface LogoutOptions {
  /** A same-origin path to land on after logout. @default the `postLogoutRedirect` option */
  returnTo?: string;
}

export async function logout(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  options: LogoutOptions = {},
): Promise<void> {
  const { config } = rt;
  const returnTo = safeReturnTo(options.returnTo, config.baseURL) ?? config.postLogoutRedirect;
  const login = getLogin(req);
  let target = returnTo;
  if (login !== undefined && config.idpLogout) {
    try {
      const end = await rt.client.endSessionUrl(
        login.tokens.id_token,
        new URL(returnTo, config.baseURL.origin).href,
      );
      if (end !== undefined) target = end.href;
    } catch {
      // IdP unreachable: the local logout below still happens.
    }
  }
  if (req.session !== undefined) {
    delete req.session.portcullis;
    await destroySession(req);
  }
  redirect(res, target);
}
