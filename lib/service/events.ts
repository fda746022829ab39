/**
 * Observability hooks. Payloads carry what an operator needs (which cache key, how long, which
 * error code) and never a token or secret: the cache key is a hash, errors are portcullis errors
 * whose messages name checks, not values.
 */
import type { PortcullisError } from '../errors.js';

export interface ServiceAgentEventBase {
  /** The hashed cache key of the agent's token (issuer, client, audience, resource, scope). */
  readonly key: string;
}

export type ServiceAgentEvent =
  /** A token came from the token endpoint: `token_refreshed` when it replaced one still in use. */
  | (ServiceAgentEventBase & {
      readonly type: 'token_fetched' | 'token_refreshed';
      readonly expiresIn: number;
      readonly durationMs: number;
    })
  /** A token request failed for good (after its retries); `background` when a valid token remains. */
  | (ServiceAgentEventBase & {
      readonly type: 'token_failed';
      readonly background: boolean;
      readonly error: PortcullisError;
    })
  /** A token request is retried after a network error or 5xx. */
  | (ServiceAgentEventBase & {
      readonly type: 'token_retry';
      readonly attempt: number;
      readonly delayMs: number;
    })
  /** The token came from the agent's memory or the shared cache. */
  | (ServiceAgentEventBase & { readonly type: 'cache_hit'; readonly source: 'memory' | 'cache' })
  /** No usable token was cached: one is being fetched (or awaited from another process). */
  | (ServiceAgentEventBase & { readonly type: 'cache_miss' })
  /** The shared cache failed or was slow; the in-process fallback is used. */
  | (ServiceAgentEventBase & {
      readonly type: 'cache_error';
      readonly operation: string;
      readonly message: string;
    })
  /**
   * A call was retried once: after a 401 `invalid_token` with a new token (the old one dropped), or
   * after a DPoP `use_dpop_nonce` challenge with the same token and a proof carrying the new nonce.
   */
  | (ServiceAgentEventBase & {
      readonly type: 'call_retried';
      readonly status: number;
      readonly reason: 'invalid_token' | 'use_dpop_nonce';
    });

export type EmitEvent = (event: ServiceAgentEvent) => void;

/** Wrap the user's hook: a throwing hook must never break a call. */
export function eventEmitter(hook: ((event: ServiceAgentEvent) => void) | undefined): EmitEvent | undefined {
  if (hook === undefined) return undefined;
  return (event) => {
    try {
      hook(event);
    } catch {
      // The hook is the user's; its failure is theirs to log.
    }
  };
}
