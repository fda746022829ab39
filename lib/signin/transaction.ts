/**
 * Pending logins ("transactions"): what the callback needs to finish a login (PKCE verifier, nonce,
 * returnTo), one single-use record per login, found by `state` and tied to the browser that started
 * it (state-store.ts), so that several tabs can log in at once, even when they start at the same
 * moment. The binding cookie holds no token, code, verifier or secret.
 */
import type { StoredDpopKey } from '../protocol/dpop/session-keys.js';
import type { BindingCookies } from './binding-cookies.js';
import { StateStore } from './state-store.js';

export interface PendingLogin {
  /** The provider the login was sent to: the callback uses it, and only it (RFC 9700 §4.4). */
  provider?: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  responseMode: string;
  maxAge?: number;
  /** With `dpop`: the login's DPoP key pair (RFC 9449), kept here until the session takes it over. */
  dpopKey?: StoredDpopKey;
  /**
   * The `Host` the login was started at, when it is not `baseURL`'s: the binding cookie was set there,
   * and the browser will not send it to `baseURL`'s host. Kept only to say so if the callback fails.
   */
  startedAtHost?: string;
  /** When the login was started (milliseconds since the epoch): the login's duration ends at the session. */
  startedAt?: number;
  /** Started by requiresAuth() to step the user up: its result is remembered, so a shortfall ends in 403, not a loop. */
  stepUp?: boolean;
  /** Started by attemptSilentLogin (`prompt=none`): the IdP's "the user must be asked" answers end it quietly. */
  silent?: boolean;
}

/** A pending login, and its binding cookie, expire after this long (the user is at the IdP meanwhile). */
export const PENDING_LOGIN_TTL_SECONDS = 15 * 60;

export function transactionStore(cookies: BindingCookies): StateStore<PendingLogin> {
  return new StateStore<PendingLogin>({
    cookies,
    keyPrefix: 'portcullis-tx:',
    field: 'portcullisTx',
    ttlSeconds: PENDING_LOGIN_TTL_SECONDS,
  });
}
