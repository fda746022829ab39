/**
 * The request's login and the provider it was made with. `auth()` finds the session's provider once
 * per request, before any route runs (`providers`: by id; `resolveProvider`: asked for the session's
 * provider id, for this request). A login whose provider is not, or no longer, one for this request
 * (a tenant's session shown on another tenant's host or path, a provider removed from the config)
 * counts as no login: refresh, userinfo, logout and DPoP only ever use the session's own provider.
 */
import type { Request } from 'express';
import type { ProviderRuntime, SigninRuntime } from './runtime.js';
import { getLogin } from './session.js';
import type { StoredLogin } from './token-set.js';

const PROVIDER = Symbol('portcullis.sessionProvider');
type WithProvider = Request & { [PROVIDER]?: ProviderRuntime };

/** The provider a stored login names; logins from before several providers name none: `default`. */
export function loginProviderId(login: StoredLogin): string {
  return typeof login.provider === 'string' ? login.provider : 'default';
}

/** Find the session's provider for this request; synchronous unless `resolveProvider` must be asked. */
export function resolveSessionProvider(rt: SigninRuntime, req: Request): Promise<void> | undefined {
  const login = getLogin(req);
  if (login === undefined) return undefined;
  const found = rt.providers.named(req, loginProviderId(login));
  if (!(found instanceof Promise)) {
    if (found !== undefined) (req as WithProvider)[PROVIDER] = found;
    return undefined;
  }
  return found.then((provider) => {
    if (provider !== undefined) (req as WithProvider)[PROVIDER] = provider;
  });
}

/** The session's login and its provider, or `undefined` when there is no login valid here. */
export function requestLogin(req: Request): { login: StoredLogin; provider: ProviderRuntime } | undefined {
  const login = getLogin(req);
  const provider = (req as WithProvider)[PROVIDER];
  if (login === undefined || provider === undefined || loginProviderId(login) !== provider.config.id) {
    return undefined;
  }
  return { login, provider };
}
