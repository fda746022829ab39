/**
 * Pending logins ("transactions"): what the callback needs to finish a login (PKCE verifier, nonce,
 * returnTo), kept server-side in the app's session store under a key derived from `state`, one
 * record per login so that two tabs can log in at once. A record is used once: the callback deletes
 * it before anything else, so a replayed callback finds nothing.
 *
 * Why not in the session itself: with `response_mode=form_post` the IdP's POST is cross-site, and a
 * browser does not send a `SameSite=Lax` session cookie with it. The record is therefore found by
 * `state`, and tied to the browser that started the login by a random binding value in a cookie of
 * our own, sent as `SameSite=None; Secure` (which cross-site POSTs carry) and as a `SameSite=Lax`
 * twin for plain-http apps. Only a hash of the binding is stored; the cookie holds no token, code,
 * verifier or secret.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from 'express-session';
import { PortcullisError } from '../errors.js';
import type { StoredDpopKey } from '../protocol/dpop/session-keys.js';
import { isLoopbackHost } from '../protocol/url-policy.js';
import { appendSetCookie, readCookie, serializeCookie } from './cookies.js';
import { storeDestroy, storeGet, storeSet } from './store.js';

export interface PendingLogin {
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  bindingHash: string;
  responseMode: string;
  maxAge?: number;
  /** With `dpop`: the login's DPoP key pair (RFC 9449), kept here until the session takes it over. */
  dpopKey?: StoredDpopKey;
  /** Started by requiresAuth() to step the user up: its result is remembered, so a shortfall ends in 403, not a loop. */
  stepUp?: boolean;
}

/** A pending login expires after this long (the user is at the IdP meanwhile). */
const TTL_SECONDS = 15 * 60;
const KEY_PREFIX = 'portcullis-tx:';
const FIELD = 'portcullisTx';

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

function storeKey(state: string): string {
  return KEY_PREFIX + sha256(state);
}

export class TransactionStore {
  readonly #cookieName: string;
  readonly #laxCookieName: string;
  readonly #secure: boolean;
  readonly #path: string;

  constructor({ cookieName, baseURL }: { cookieName: string; baseURL: URL }) {
    this.#cookieName = cookieName;
    this.#laxCookieName = `${cookieName}.lax`;
    // Browsers accept Secure cookies from https origins and from loopback hosts over http.
    this.#secure = baseURL.protocol === 'https:' || isLoopbackHost(baseURL.hostname);
    this.#path = baseURL.pathname.endsWith('/') ? baseURL.pathname : `${baseURL.pathname}/`;
  }

  /** The browser's binding value: reused when present (another tab's login), else a new one. */
  #binding(req: IncomingMessage, res: ServerResponse): string {
    const existing = readCookie(req, this.#cookieName) ?? readCookie(req, this.#laxCookieName);
    const binding = existing ?? randomBytes(32).toString('base64url');
    const maxAge = TTL_SECONDS;
    if (this.#secure) {
      appendSetCookie(
        res,
        serializeCookie(this.#cookieName, binding, {
          path: this.#path,
          maxAge,
          secure: true,
          sameSite: 'None',
        }),
      );
    }
    appendSetCookie(
      res,
      serializeCookie(this.#laxCookieName, binding, {
        path: this.#path,
        maxAge,
        secure: this.#secure,
        sameSite: 'Lax',
      }),
    );
    return binding;
  }

  async save(
    store: Store,
    req: IncomingMessage,
    res: ServerResponse,
    state: string,
    login: Omit<PendingLogin, 'bindingHash'>,
  ): Promise<void> {
    const bindingHash = sha256(this.#binding(req, res));
    await storeSet(store, storeKey(state), FIELD, { ...login, bindingHash }, TTL_SECONDS);
  }

  /**
   * Take the pending login for `state` out of the store. `undefined` when there is none (already
   * used, expired, or never issued): a stale callback. Throws `ERR_STATE_MISMATCH` when it exists
   * but was started by another browser.
   */
  async consume(store: Store, req: IncomingMessage, state: string): Promise<PendingLogin | undefined> {
    const key = storeKey(state);
    const login = await storeGet<PendingLogin>(store, key, FIELD);
    if (login === undefined) return undefined;
    await storeDestroy(store, key);
    const candidates = [readCookie(req, this.#cookieName), readCookie(req, this.#laxCookieName)];
    const expected = Buffer.from(login.bindingHash);
    const bound = candidates.some((value) => {
      if (value === undefined) return false;
      const actual = Buffer.from(sha256(value));
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    });
    if (!bound) {
      throw new PortcullisError(
        'ERR_STATE_MISMATCH',
        'the login was started in another browser or its cookie is missing',
        {
          status: 400,
        },
      );
    }
    return login;
  }
}
