/**
 * The route the IdP sends the browser back to after RP-initiated logout (RP-Initiated Logout 1.0 §3),
 * as named steps:
 *
 *   readState        exactly one `state`, of a sane length; none is a 400
 *   takeLogout       a pending logout this app issued to this browser, unused and unexpired; then
 *                    deleted (anything else is a 400: a forged, replayed or foreign return)
 *   redirect         to the logout's `returnTo`, checked when the logout started
 *
 * Why a state at all: without one, anyone can send a browser to this app's post-logout URL, and the
 * app cannot tell a logout it started from a link on another site.
 * The session is destroyed at logout, before the browser goes to the IdP, so the pending logout lives
 * in the session store under a hash of its `state`, tied to the browser by a binding cookie
 * (state-store.ts), like a pending login.
 */
import type { Request, Response } from 'express';
import { PortcullisError } from '../errors.js';
import type { BindingCookies } from './binding-cookies.js';
import { redirect } from './respond.js';
import type { SigninRuntime } from './runtime.js';
import { StateStore } from './state-store.js';

export interface PendingLogout {
  /** Where to land once the IdP has logged the user out; a safe same-origin path. */
  returnTo: string;
}

/** The user reads the IdP's "sign out?" page meanwhile. */
const TTL_SECONDS = 10 * 60;
const MAX_STATE_LENGTH = 512;
const WHAT_TO_DO = 'nothing was changed here: go back to the app, and log out again if you meant to';

export function logoutStore(cookies: BindingCookies): StateStore<PendingLogout> {
  return new StateStore<PendingLogout>({
    cookies,
    keyPrefix: 'portcullis-logout:',
    field: 'portcullisLogout',
    ttlSeconds: TTL_SECONDS,
  });
}

function readState(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const query = url.indexOf('?');
  const states = new URLSearchParams(query === -1 ? '' : url.slice(query + 1)).getAll('state');
  const [state] = states;
  if (state === undefined || state === '') {
    throw new PortcullisError(
      'ERR_STATE_MISSING',
      `the return from logout at the IdP has no "state", so this app cannot tell it started that logout; ${WHAT_TO_DO}`,
      { status: 400 },
    );
  }
  if (states.length > 1 || state.length > MAX_STATE_LENGTH) {
    throw new PortcullisError(
      'ERR_STATE_MISMATCH',
      `the return from logout at the IdP has a malformed "state"; ${WHAT_TO_DO}`,
      { status: 400 },
    );
  }
  return state;
}

async function takeLogout(
  rt: SigninRuntime,
  req: Request,
  res: Response,
  state: string,
): Promise<PendingLogout> {
  const taken = await rt.logouts.take(req.sessionStore, req, res, state);
  if (taken.found === 'record') return taken.record;
  const why =
    taken.found === 'nothing'
      ? 'carries a "state" this app did not issue, or that was used already or has expired'
      : 'belongs to a logout started in another browser, or this browser lost its logout cookie';
  throw new PortcullisError('ERR_STATE_MISMATCH', `the return from logout at the IdP ${why}; ${WHAT_TO_DO}`, {
    status: 400,
  });
}

export async function handlePostLogoutCallback(
  rt: SigninRuntime,
  req: Request,
  res: Response,
): Promise<void> {
  const state = readState(req);
  const logout = await takeLogout(rt, req, res, state);
  redirect(res, logout.returnTo);
}
