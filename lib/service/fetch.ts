/**
 * `agent.fetch(input, init)`: the platform fetch with `Authorization: Bearer <token>`, retried once
 * with a new token when the answer is a 401 `invalid_token` and the body can be sent again.
 */

import type { FetchLike } from '../protocol/http.js';
import { isInvalidTokenChallenge } from '../protocol/invalid-token-challenge.js';
import type { EmitEvent } from './events.js';
import { isReplayableBody } from './replayable-body.js';
import type { TokenSource } from './token-source.js';

export type ServiceFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

function withAuthorization(
  input: string | URL | Request,
  init: RequestInit | undefined,
  token: string,
): RequestInit {
  // `init.headers` replaces a Request's own headers, so start from those.
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set('authorization', `Bearer ${token}`);
  return { ...init, headers };
}

function replayable(input: string | URL | Request, init: RequestInit | undefined): boolean {
  if (init?.body !== undefined) return isReplayableBody(init.body);
  return !(input instanceof Request) || input.body === null;
}

export function createServiceFetch(
  source: TokenSource,
  platformFetch: () => FetchLike,
  emit: EmitEvent | undefined,
  key: string,
): ServiceFetch {
  return async function serviceFetch(input, init) {
    const first = await source.get();
    const response = await platformFetch()(input, withAuthorization(input, init, first.access_token));
    if (!isInvalidTokenChallenge(response.status, response.headers.get('www-authenticate'))) return response;
    if (!replayable(input, init)) return response;
    void source.drop(first.access_token);
    const second = await source.get();
    emit?.({ type: 'call_retried', key, status: response.status });
    // Free the first connection; the caller only ever sees the second answer.
    await response.body?.cancel().catch(() => undefined);
    // Exactly one retry: whatever this answers goes back to the caller.
    return platformFetch()(input, withAuthorization(input, init, second.access_token));
  };
}
