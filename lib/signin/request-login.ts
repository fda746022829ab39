/**
 * The request's login and the provider it was made with. `auth()` finds the session's provider once
 * per request, before any route runs (`providers`: by id; `resolveProvider`: asked for the session's
 * provider id, for this request). A login whose provider is not, or no longer, one for this request
 * (a tenant's session shown on another tenant's host or path, a provider removed from the config)
 * counts as no login: refresh, userinfo, logout and DPoP only ever use the session's own provider.
 */
import type { Request } from 'express';
import { type RequestState, stateOf } from './request-state.js';
import type { ProviderRuntime, SigninRuntime } from './runtime.js';
import { getLogin } from './session.js';
import type { StoredLogin } from './token-set.js';

/** The provider a stored login names; logins from before several providers name none: `default`. */
export function loginProviderId(login: StoredLogin): string {
  return typeof login.provider === 'string' ? login.provider : 'default';
}

/** Find the session's provider for this request; synchronous unless `resolveProvider` must be asked. */
export function resolveSessionProvider(
  rt: SigninRuntime,
  req: Request,
  state: RequestState,
): Promise<void> | undefined {
  const login = getLogin(req);
  if (login === undefined) return undefined;
  const found = rt.providers.named(req, loginProviderId(login));
  if (!(found instanceof Promise)) {
    state.provider = found;
    return undefined;
  }
  return found.then((provider) => {
    state.provider = provider;
  });
}

/** The session's login and its provider, or `undefined` when there is no login valid here. */
export function requestLogin(
  req: Request,
  state: RequestState | undefined = stateOf(req),
): { login: StoredLogin; provider: ProviderRuntime } | undefined {
  const login = getLogin(req);
  const provider = state?.provider;
  if (login === undefined || provider === undefined || loginProviderId(login) !== provider.config.id) {
    return undefined;
  }
  return { login, provider };
}
