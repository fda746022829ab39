/**
 * Refresh, safe under concurrency and on a fleet.
 *
 * With refresh-token rotation, a refresh token may be used once: an IdP that sees it twice treats it
 * as stolen and revokes the whole grant (RFC 9700 §4.14.2), signing the user out. Three things keep
 * portcullis from ever sending a used one:
 *
 * 1. One request per refresh token in a process (single flight).
 * 2. A rotation log in the session store: `old refresh token → new token set`. A request holding a
 *    stale copy (it loaded the session before another saved the refresh, or an older session copy was
 *    saved over a newer one) follows the log to the newest tokens instead of replaying the old token.
 * 3. On a fleet, a lock (`refreshLock`, e.g. `redisTokenCache(redisClient)`) so that one process
 *    refreshes while the others wait for its log entry.
 */
import { createHash } from 'node:crypto';
import type { Store } from 'express-session';
import type { DPoPHandle } from 'oauth4webapi';
import { PortcullisError } from '../errors.js';
import type { OidcClient } from '../protocol/oidc-client.js';
import { storeGet, storeSet } from './store.js';
import { type TokenSet, tokenSetFrom } from './token-set.js';

/** A lock shared by a fleet. `redisTokenCache(client)` is one; any object with this method works. */
export interface RefreshLock {
  /**
   * Take the lock for `ttlMs`; resolves to a release function, or `undefined` when another holds it.
   * Optional in the type only so that a `TokenCache` fits; `auth()` checks that it is there.
   */
  lock?(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
}

interface Rotation {
  tokens: TokenSet;
  /** Milliseconds since the epoch, when the refresh was made. */
  at: number;
}

/** How long a refresh's result is shared with callers that hold the same, still valid, refresh token. */
const SHARE_MS = 30_000;
const POLL_MS = 50;
const FIELD = 'portcullisRotation';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function hash(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('base64url');
}

function fresh(tokens: TokenSet): boolean {
  return tokens.expires_at === undefined || tokens.expires_at > Math.floor(Date.now() / 1000) + 5;
}

export interface RefresherOptions {
  client: OidcClient;
  lock: RefreshLock | undefined;
  /** Seconds a rotation record is kept: as long as a stale session copy could live. */
  logTtl: number;
  /** Milliseconds a process waits for another's refresh (the lock's lifetime). */
  lockTtl: number;
}

export class Refresher {
  readonly #options: RefresherOptions;
  readonly #inFlight = new Map<string, Promise<TokenSet>>();

  constructor(options: RefresherOptions) {
    this.#options = options;
  }

  /** `dpop`: the session's DPoP handle when its tokens are bound (RFC 9449); the refresh sends a proof. */
  refresh(tokens: TokenSet, store: Store, dpop?: DPoPHandle): Promise<TokenSet> {
    const key = hash(tokens.refresh_token!);
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#refresh(tokens, store, dpop).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  /** Follow the rotation log from `tokens`: the newest token set, and whether it can be used as is. */
  async #latest(tokens: TokenSet, store: Store): Promise<{ tokens: TokenSet; usable: boolean }> {
    let current = tokens;
    for (let hop = 0; hop < 20; hop++) {
      const rotation = await storeGet<Rotation>(store, `${FIELD}:${hash(current.refresh_token!)}`, FIELD);
      if (rotation === undefined) break;
      if (rotation.tokens.refresh_token === current.refresh_token) {
        // Not rotated: share a result that is recent; an older one is a reason to refresh again.
        return {
          tokens: rotation.tokens,
          usable: Date.now() - rotation.at < SHARE_MS && fresh(rotation.tokens),
        };
      }
      current = rotation.tokens; // ours was used: move on to its successor
    }
    return { tokens: current, usable: current !== tokens && fresh(current) };
  }

  async #refresh(tokens: TokenSet, store: Store, dpop: DPoPHandle | undefined): Promise<TokenSet> {
    const { client, lock, lockTtl } = this.#options;
    let latest = await this.#latest(tokens, store);
    if (latest.usable) return latest.tokens;

    const key = hash(latest.tokens.refresh_token!);
    let release: (() => Promise<void>) | undefined;
    if (lock !== undefined) {
      try {
        release = await lock.lock!(`refresh:${key}`, lockTtl);
      } catch {
        release = async () => undefined; // the lock is down: refresh unguarded rather than fail the user
      }
      if (release === undefined) return this.#waitForOther(latest.tokens, store);
    }
    try {
      latest = await this.#latest(latest.tokens, store); // another may have finished while we took the lock
      if (latest.usable) return latest.tokens;
      const { response, idToken, claims } = await client.refresh(
        latest.tokens.refresh_token!,
        latest.tokens.claims,
        dpop,
      );
      const next = tokenSetFrom(
        response,
        idToken ?? latest.tokens.id_token,
        claims ?? latest.tokens.claims,
        latest.tokens,
      );
      await storeSet(
        store,
        `${FIELD}:${key}`,
        FIELD,
        { tokens: next, at: Date.now() } satisfies Rotation,
        this.#options.logTtl,
      ).catch(
        () => undefined, // best effort: the caller saves the new tokens in its session too
      );
      return next;
    } finally {
      await release?.().catch(() => undefined);
    }
  }

  async #waitForOther(tokens: TokenSet, store: Store): Promise<TokenSet> {
    const deadline = Date.now() + this.#options.lockTtl;
    while (Date.now() < deadline) {
      await sleep(POLL_MS);
      const latest = await this.#latest(tokens, store);
      if (latest.tokens !== tokens || latest.usable) return latest.tokens;
    }
    throw new PortcullisError(
      'ERR_REFRESH_FAILED',
      'another process is refreshing these tokens and did not finish in time',
      {
        status: 503,
      },
    );
  }
}
