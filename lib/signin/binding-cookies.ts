/**
 * The cookies that tie a record found by `state` (a pending login, a pending logout) to the browser
 * that started it, so that a `state` from another browser is refused (login CSRF, RFC 9700 §4.7).
 *
 * One cookie per record, named after a prefix of the state's hash (`portcullis.tx.<id>`), never one
 * cookie shared by all of a browser's logins: two logins started at the same moment (tabs restored
 * together after the session expired) both leave before either answer's cookie is stored, so a shared
 * cookie would end up holding the last writer's value and refuse the other login. Each value is
 * random and the record keeps only its hash. Sent as `SameSite=None; Secure`, which the IdP's
 * cross-site form_post carries, with a `SameSite=Lax` twin for plain-http apps. Used cookies are
 * cleared, and a browser holds at most `MAX_BINDINGS` of them: the oldest go first.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopbackHost } from '../protocol/url-policy.js';
import { appendSetCookie, cookieNamesStartingWith, readCookie, serializeCookie } from './cookies.js';

/** Enough for many tabs logging in at once; 20 pairs stay near 3 KB of `Cookie` header. */
const MAX_BINDINGS = 20;
/** 96 bits of the state's hash: two records of one browser never share a cookie. */
const ID_LENGTH = 16;
const ID = new RegExp(`^[A-Za-z0-9_-]{${ID_LENGTH}}$`);
const LAX_SUFFIX = '.lax';

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

export class BindingCookies {
  readonly #prefix: string;
  readonly #secure: boolean;
  readonly #path: string;

  constructor({ cookieName, baseURL }: { cookieName: string; baseURL: URL }) {
    this.#prefix = `${cookieName}.`;
    // Browsers accept Secure cookies from https origins and from loopback hosts over http.
    this.#secure = baseURL.protocol === 'https:' || isLoopbackHost(baseURL.hostname);
    this.#path = baseURL.pathname.endsWith('/') ? baseURL.pathname : `${baseURL.pathname}/`;
  }

  #name(state: string): string {
    return this.#prefix + sha256(state).slice(0, ID_LENGTH);
  }

  /** Both cookies of one binding: `SameSite=None; Secure` (when the origin allows it) and its Lax twin. */
  #set(res: ServerResponse, name: string, value: string, maxAge: number): void {
    if (this.#secure) {
      appendSetCookie(
        res,
        serializeCookie(name, value, { path: this.#path, maxAge, secure: true, sameSite: 'None' }),
      );
    }
    appendSetCookie(
      res,
      serializeCookie(name + LAX_SUFFIX, value, {
        path: this.#path,
        maxAge,
        secure: this.#secure,
        sameSite: 'Lax',
      }),
    );
  }

  /** The names of the bindings this request carries (either cookie of a pair), oldest first. */
  #heldNames(req: IncomingMessage): Set<string> {
    const names = new Set<string>();
    for (const name of cookieNamesStartingWith(req, this.#prefix)) {
      const base = name.endsWith(LAX_SUFFIX) ? name.slice(0, -LAX_SUFFIX.length) : name;
      if (ID.test(base.slice(this.#prefix.length))) names.add(base);
    }
    return names;
  }

  /** Expire the oldest bindings this browser holds, leaving room for one more. */
  #evictOldest(req: IncomingMessage, res: ServerResponse): void {
    const names = this.#heldNames(req);
    const excess = names.size - (MAX_BINDINGS - 1);
    for (const name of [...names].slice(0, Math.max(0, excess))) this.#set(res, name, '', 0);
  }

  /** Give this browser a new binding for `state`; returns its hash, to be kept with the record. */
  issue(req: IncomingMessage, res: ServerResponse, state: string, ttlSeconds: number): string {
    this.#evictOldest(req, res);
    const binding = randomBytes(32).toString('base64url');
    this.#set(res, this.#name(state), binding, ttlSeconds);
    return sha256(binding);
  }

  /** True when this browser holds the binding for `state` whose hash is `expectedHash`. */
  holds(req: IncomingMessage, state: string, expectedHash: string): boolean {
    const name = this.#name(state);
    const expected = Buffer.from(expectedHash);
    return [readCookie(req, name), readCookie(req, name + LAX_SUFFIX)].some((value) => {
      if (value === undefined) return false;
      const actual = Buffer.from(sha256(value));
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    });
  }

  /**
   * True when this request carries any binding at all, for whatever state: none means the client sent
   * back none of the cookies set at the start (blocked, dropped, another host), not a foreign `state`.
   */
  holdsAny(req: IncomingMessage): boolean {
    return this.#heldNames(req).size > 0;
  }

  /** Expire the binding for `state`: its record has been used. */
  clear(res: ServerResponse, state: string): void {
    this.#set(res, this.#name(state), '', 0);
  }
}
