/**
 * Server-provided DPoP nonces (RFC 9449 §9) without shared state: the nonce of a time window is
 * `HMAC-SHA256(secret, window)`, so that every process holding the same secret issues and accepts
 * the same nonces. The current window's nonce and the previous one are accepted, so a nonce lives
 * between one and two `lifetime`s. Nonces are public values; only the secret must stay private.
 */
import { createHmac, type KeyObject } from 'node:crypto';

export interface DpopNonceSource {
  /** The nonce to hand out now. */
  current(now: number): string;
  /** `'current'`, `'previous'` (accepted, but the client should switch), or `undefined` (refused). */
  check(nonce: unknown, now: number): 'current' | 'previous' | undefined;
}

export interface DpopNonceSettings {
  /** The HMAC key: random per process by default, shared across a fleet when configured. */
  readonly secret: KeyObject;
  /** Milliseconds a nonce is current. */
  readonly lifetime: number;
}

export function createDpopNonceSource({ secret, lifetime }: DpopNonceSettings): DpopNonceSource {
  let memo: { window: number; current: string; previous: string } | undefined;
  const nonceOf = (window: number): string =>
    createHmac('sha256', secret).update(`dpop-nonce:${window}`).digest('base64url');

  function nonces(now: number): { current: string; previous: string } {
    const window = Math.floor(now / lifetime);
    if (memo?.window !== window) {
      const previous = memo?.window === window - 1 ? memo.current : nonceOf(window - 1);
      memo = { window, current: nonceOf(window), previous };
    }
    return memo;
  }

  return {
    current: (now) => nonces(now).current,
    check(nonce, now) {
      if (typeof nonce !== 'string') return undefined;
      const { current, previous } = nonces(now);
      if (nonce === current) return 'current';
      return nonce === previous ? 'previous' : undefined;
    },
  };
}
