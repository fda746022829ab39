/**
 * Where an agent's tokens come from, in order: its own memory (the hot path: no I/O, no lock), the
 * shared cache, and only then the token endpoint. One token request at a time per agent (single
 * flight, jose's `remote.ts` shape), and with a cache that can lock, one per fleet: the process that
 * gets the lock fetches while the others wait for its result.
 */
import { PortcullisError } from '../errors.js';
import type { IssuedToken } from '../protocol/client-credentials.js';
import type { AgentGrant } from '../protocol/observability/events.js';
import { inSpan } from '../protocol/observability/spans.js';
import type { EmitEvent } from './events.js';
import type { GuardedCache } from './guarded-cache.js';
import type { CachedToken } from './token-cache.js';
import { cacheTtlSeconds, type TokenTiming, tokenTiming } from './token-timing.js';

export interface TokenSourceOptions {
  readonly key: string;
  /** The grant of `fetchToken`, for events, spans and metrics. */
  readonly grant: AgentGrant;
  readonly cache: GuardedCache;
  /** One token request, retries included. */
  readonly fetchToken: () => Promise<IssuedToken>;
  readonly refreshRatio: number;
  readonly expiryMarginMs: number;
  /** How long the fleet lock is held at most, and how long the others wait for its holder. */
  readonly lockTtlMs: number;
  readonly emit: EmitEvent;
}

/** How often a process waiting on another's token request looks for its result. */
const POLL_MS = 20;

function closedError(): PortcullisError {
  return new PortcullisError('ERR_TOKEN_REQUEST_FAILED', 'the service agent is closed', { status: 500 });
}

/** Seconds a token is valid for, from its issue. */
function expiresIn(token: CachedToken): number {
  return Math.round((token.expires_at - token.issued_at) / 1000);
}

export class TokenSource {
  readonly #o: TokenSourceOptions;
  #current: { token: CachedToken; timing: TokenTiming } | undefined;
  #pending: Promise<CachedToken> | undefined;
  /** The last token a resource server refused: never adopted again from the shared cache. */
  #rejected: string | undefined;
  /** After a failed background refresh, wait a little before trying again (the token still works). */
  #quietUntil = 0;
  #closed = false;

  constructor(options: TokenSourceOptions) {
    this.#o = options;
  }

  /** A token that is safe to send now. */
  get(): Promise<CachedToken> {
    if (this.#closed) return Promise.reject(closedError());
    const token = this.peek();
    return token === undefined ? this.#refresh(false) : Promise.resolve(token);
  }

  /**
   * The hot path, synchronous: the token in memory when it is safe to send now (starting a
   * background refresh once it is due), else `undefined` and the caller goes through `get()`.
   * No promise and no I/O, so that a call with a cached token costs a caller no extra tick.
   */
  peek(): CachedToken | undefined {
    const current = this.#current;
    if (current === undefined || this.#closed) return undefined;
    const now = Date.now();
    if (now >= current.timing.useUntil) return undefined;
    if (now >= current.timing.refreshAt) this.#refreshInBackground(now);
    this.#o.emit({ type: 'agent.cache.hit', key: this.#o.key, source: 'memory' });
    return current.token;
  }

  /**
   * Forget a token a resource server refused. With `accessToken`, only if it is still the current
   * one: when 100 calls come back 401 together, the first drop counts and the rest are no-ops.
   */
  async drop(accessToken?: string): Promise<void> {
    const current = this.#current?.token.access_token;
    if (accessToken !== undefined && current !== accessToken) return;
    this.#rejected = accessToken ?? current;
    this.#current = undefined;
    // The guarded cache never rejects; callers that retry need not wait for the shared delete.
    await this.#o.cache.delete(this.#o.key, accessToken);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#pending?.catch(() => undefined);
    this.#current = undefined;
  }

  #refreshInBackground(now: number): void {
    if (this.#pending !== undefined || now < this.#quietUntil) return;
    this.#refresh(true).catch(() => {
      const lifetime = this.#current ? this.#current.token.expires_at - this.#current.token.issued_at : 0;
      this.#quietUntil = Date.now() + Math.min(1000, lifetime * 0.05);
    });
  }

  #refresh(background: boolean): Promise<CachedToken> {
    this.#pending ??= this.#obtain(background).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  #adopt(token: CachedToken): CachedToken {
    this.#current = { token, timing: this.#timing(token) };
    return token;
  }

  #timing(token: CachedToken): TokenTiming {
    return tokenTiming(token, this.#o.refreshRatio, this.#o.expiryMarginMs);
  }

  /** A shared token this process may take: not refused, and fresh (or, when nothing else is, usable). */
  #acceptable(token: CachedToken | undefined, allowStale: boolean): token is CachedToken {
    if (token === undefined || token.access_token === this.#rejected) return false;
    if (token.access_token === this.#current?.token.access_token && !allowStale) return false;
    const timing = this.#timing(token);
    const now = Date.now();
    return now < timing.refreshAt || (allowStale && now < timing.useUntil);
  }

  async #obtain(background: boolean): Promise<CachedToken> {
    const { cache, key, emit } = this.#o;
    const shared = await cache.get(key);
    // In the foreground a usable shared token beats waiting; the next call refreshes it in the background.
    if (this.#acceptable(shared, !background)) {
      emit({ type: 'agent.cache.hit', key, source: 'cache' });
      return this.#adopt(shared);
    }
    emit({ type: 'agent.cache.missed', key });
    const release = await cache.lock(key, this.#o.lockTtlMs);
    if (release === undefined) {
      const theirs = await this.#awaitOtherProcess();
      if (theirs !== undefined) return this.#adopt(theirs);
      // Closed while waiting: a closing agent never starts a token request.
      if (this.#closed) throw closedError();
    }
    try {
      // Look again under the lock: another process may have stored a token and let go of the lock
      // between our first look and our lock.
      if (release !== undefined) {
        const again = await cache.get(key);
        if (this.#acceptable(again, false)) {
          emit({ type: 'agent.cache.hit', key, source: 'cache' });
          return this.#adopt(again);
        }
      }
      return await this.#fetch(background);
    } finally {
      await release?.();
    }
  }

  /** Another process holds the lock: poll the cache for its token, up to the lock's lifetime. */
  async #awaitOtherProcess(): Promise<CachedToken | undefined> {
    const deadline = Date.now() + this.#o.lockTtlMs;
    while (Date.now() < deadline && !this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const token = await this.#o.cache.get(this.#o.key);
      if (this.#acceptable(token, false)) {
        this.#o.emit({ type: 'agent.cache.hit', key: this.#o.key, source: 'cache' });
        return token;
      }
    }
    return undefined;
  }

  /**
   * One token request, retries included, in a `portcullis.agent.token_request` span: a child of
   * the span of the call that needed the token (the first of them, when calls share the request).
   */
  #fetch(background: boolean): Promise<CachedToken> {
    const { grant } = this.#o;
    const attributes = { 'portcullis.grant_type': grant, 'portcullis.background': background };
    return inSpan('portcullis.agent.token_request', attributes, async (span) => {
      const token = await this.#request(background);
      span?.setAttribute('portcullis.token.expires_in', expiresIn(token));
      return token;
    });
  }

  async #request(background: boolean): Promise<CachedToken> {
    const { cache, key, emit, grant } = this.#o;
    const started = performance.now();
    let token: IssuedToken;
    try {
      token = await this.#o.fetchToken();
    } catch (err) {
      const error =
        err instanceof PortcullisError
          ? err
          : new PortcullisError('ERR_TOKEN_REQUEST_FAILED', 'token request failed', { status: 502 });
      const durationMs = performance.now() - started;
      emit({ type: 'agent.token.failed', key, grant, background, code: error.code, error, durationMs });
      throw error;
    }
    this.#adopt(token);
    await cache.set(key, token, cacheTtlSeconds(token));
    emit({
      type: background ? 'agent.token.refreshed' : 'agent.token.fetched',
      key,
      grant,
      expiresIn: expiresIn(token),
      durationMs: performance.now() - started,
    });
    return token;
  }
}
