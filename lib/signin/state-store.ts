/**
 * Single-use records found by `state` and tied to the browser that created them: pending logins and
 * pending logouts. A record lives in the app's session store (under a hash of `state`), not in the
 * session itself: the IdP's form_post comes back cross-site without the `SameSite=Lax` session cookie,
 * and a logout destroys the session before the IdP sends the browser back. A binding cookie
 * (binding-cookies.ts) ties each record to its browser.
 *
 *   take()  record present → deleted at once (a replay finds nothing) → binding checked (none at all
 *           told apart from another browser's) → cookie cleared
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from 'express-session';
import type { BindingCookies } from './binding-cookies.js';
import { storeDestroy, storeGet, storeSet } from './store.js';

/**
 * What `take()` found: the record, nothing (unknown, used or expired), another browser's record (this
 * request carries bindings, but not this record's), or a record while the request carries no binding
 * at all (the client sent back none of the cookies: blocked, dropped, or set at another host).
 */
export type Taken<T> =
  | { readonly found: 'record'; readonly record: T }
  | { readonly found: 'nothing' }
  | { readonly found: 'another-browser'; readonly record: T }
  | { readonly found: 'no-cookie'; readonly record: T };

type Stored<T> = T & { bindingHash: string };

export class StateStore<T extends object> {
  readonly #cookies: BindingCookies;
  readonly #keyPrefix: string;
  readonly #field: string;
  readonly #ttlSeconds: number;

  constructor(options: { cookies: BindingCookies; keyPrefix: string; field: string; ttlSeconds: number }) {
    this.#cookies = options.cookies;
    this.#keyPrefix = options.keyPrefix;
    this.#field = options.field;
    this.#ttlSeconds = options.ttlSeconds;
  }

  #key(state: string): string {
    return this.#keyPrefix + createHash('sha256').update(state).digest('base64url');
  }

  async save(
    store: Store,
    req: IncomingMessage,
    res: ServerResponse,
    state: string,
    record: T,
  ): Promise<void> {
    const bindingHash = this.#cookies.issue(req, res, state, this.#ttlSeconds);
    const stored: Stored<T> = { ...record, bindingHash };
    await storeSet(store, this.#key(state), this.#field, stored, this.#ttlSeconds);
  }

  /** Take the record for `state` out of the store, if this browser started it. */
  async take(store: Store, req: IncomingMessage, res: ServerResponse, state: string): Promise<Taken<T>> {
    const key = this.#key(state);
    const stored = await storeGet<Stored<T>>(store, key, this.#field);
    this.#cookies.clear(res, state);
    if (stored === undefined) return { found: 'nothing' };
    await storeDestroy(store, key);
    if (this.#cookies.holds(req, state, stored.bindingHash)) return { found: 'record', record: stored };
    if (!this.#cookies.holdsAny(req)) return { found: 'no-cookie', record: stored };
    return { found: 'another-browser', record: stored };
  }
}
