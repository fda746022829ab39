/**
 * Why the callback refuses a pending login that this request is not bound to, in words that send the
 * reader to the right cause. A client that sent back no binding cookie at all (cookies blocked, a script
 * whose cookie jar keeps `Secure` cookies off http://localhost, /login opened at another host name) is
 * told so, rather than sent looking for "another browser"; one that sent bindings, but not this login's,
 * is told the login is another browser's or tab's. Neither message echoes the state or a cookie value.
 */
import { PortcullisError } from '../errors.js';
import { withRefusal } from '../protocol/oidc-refusal.js';
import type { SigninRuntime } from './runtime.js';
import { PENDING_LOGIN_TTL_SECONDS, type PendingLogin } from './transaction.js';

export function unboundLoginError(
  rt: SigninRuntime,
  login: PendingLogin,
  cookieSent: boolean,
): PortcullisError {
  const host = login.startedAtHost;
  const base = rt.config.baseURL.origin;
  const start = rt.config.routes.login;
  const message =
    host !== undefined
      ? `this sign-in was started at host "${host}", but the app's baseURL is ${base}, and the browser keeps cookies per host: open the app at ${base} (or set baseURL to the address users open), then sign in again`
      : cookieSent
        ? 'this sign-in was started in another browser, or this browser lost its sign-in cookie: start again from the login page'
        : `this callback came without the sign-in cookie (${rt.config.transactionCookieName}.*) set at ${start}: the browser or client did not send it back. Cookies may be blocked; the client may not send Secure cookies over http://localhost (browsers do, some scripts' cookie jars do not); ${start} and the callback may have been opened at different host names (localhost and 127.0.0.1 are two, and baseURL is ${base}); or the login took longer than the cookie's ${PENDING_LOGIN_TTL_SECONDS / 60} minutes. Start the login again from ${start}`;
  const error = new PortcullisError('ERR_STATE_MISMATCH', message, { status: 400 });
  return withRefusal(error, { reason: 'browser', expected: base, received: host ?? null });
}
