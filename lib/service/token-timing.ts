/**
 * When to refresh a token and when to stop sending it, as shares of its lifetime: a fixed margin
 * (30-60 s, as most clients use) is longer than a 2-second token's whole life, so such clients
 * either never cache or send expired tokens. Shares work at every lifetime.
 */
import type { CachedToken } from './token-cache.js';

export interface TokenTiming {
  /** From here on the next call starts a background refresh; the token is still sent meanwhile. */
  readonly refreshAt: number;
  /** From here on the token is never sent: callers wait for a new one. */
  readonly useUntil: number;
}

/** Never closer to expiry than this share of the lifetime caps the margin. */
const MAX_MARGIN_SHARE = 0.1;

export function tokenTiming(token: CachedToken, refreshRatio: number, expiryMarginMs: number): TokenTiming {
  // A foreign or odd entry may claim expiry before issue: treat it as a token with no life left.
  const lifetime = Math.max(0, token.expires_at - token.issued_at);
  const useUntil = token.expires_at - Math.min(expiryMarginMs, lifetime * MAX_MARGIN_SHARE);
  const refreshAt = Math.min(token.issued_at + lifetime * refreshRatio, useUntil);
  return { refreshAt, useUntil };
}

/** Seconds a shared cache should keep the entry: until it expires, at least one second. */
export function cacheTtlSeconds(token: CachedToken, now = Date.now()): number {
  return Math.max(1, Math.ceil((token.expires_at - now) / 1000));
}
