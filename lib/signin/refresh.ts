/**
 * Refresh with one request per refresh token (single flight), and rotation-aware: when the IdP
 * rotates refresh tokens, a request that still holds the old one (it loaded the session before the
 * refresh was saved) gets the result of the refresh already made instead of replaying a used token,
 * which the IdP would refuse and may treat as theft (RFC 9700 §4.14.2).
 */
import { createHash } from 'node:crypto';
import type { OidcClient } from '../protocol/oidc-client.js';
import { type TokenSet, tokenSetFrom } from './token-set.js';

/** How long a finished refresh is remembered for latecomers holding the old refresh token. */
const REUSE_MS = 30_000;

export class Refresher {
  readonly #client: OidcClient;
  readonly #inFlight = new Map<string, Promise<TokenSet>>();
  readonly #recent = new Map<string, { tokens: TokenSet; at: number }>();

  constructor(client: OidcClient) {
    this.#client = client;
  }

  refresh(tokens: TokenSet): Promise<TokenSet> {
    const refreshToken = tokens.refresh_token!;
    const key = createHash('sha256').update(refreshToken).digest('base64url');
    const now = Date.now();
    const recent = this.#recent.get(key);
    if (recent !== undefined && now - recent.at < REUSE_MS) return Promise.resolve(recent.tokens);
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#client
        .refresh(refreshToken, tokens.claims)
        .then(({ response, idToken, claims }) => {
          const next = tokenSetFrom(response, idToken ?? tokens.id_token, claims ?? tokens.claims, tokens);
          this.#prune(Date.now());
          this.#recent.set(key, { tokens: next, at: Date.now() });
          return next;
        })
        .finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#recent) {
      if (now - entry.at >= REUSE_MS) this.#recent.delete(key);
      else break; // insertion order: the rest are newer
    }
  }
}
