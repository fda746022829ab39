/**
 * `agent.fetch(input, init)`: the platform fetch with the agent's token (`Authorization: Bearer`,
 * or `DPoP` with a fresh proof), retried once with a new token when the answer is a 401
 * `invalid_token`, and once with the new nonce when a DPoP resource server asks for one, as long as
 * the body can be sent again. Each retry happens at most once per call: never a loop.
 */

import type { FetchLike } from '../protocol/http.js';
import { isInvalidTokenChallenge } from '../protocol/invalid-token-challenge.js';
import type { CallCredentials } from './call-credentials.js';
import type { EmitEvent } from './events.js';
import { isReplayableBody } from './replayable-body.js';
import type { CachedToken } from './token-cache.js';
import type { TokenSource } from './token-source.js';

export type ServiceFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

function withHeaders(
  input: string | URL | Request,
  init: RequestInit | undefined,
  added: Readonly<Record<string, string>>,
): RequestInit {
  // `init.headers` replaces a Request's own headers, so start from those.
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  for (const [name, value] of Object.entries(added)) headers.set(name, value);
  return { ...init, headers };
}

function replayable(input: string | URL | Request, init: RequestInit | undefined): boolean {
  if (init?.body !== undefined) return isReplayableBody(init.body);
  return !(input instanceof Request) || input.body === null;
}

/** Free a connection whose answer the caller will never see. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

export function createServiceFetch(
  source: TokenSource,
  platformFetch: () => FetchLike,
  emit: EmitEvent,
  key: string,
  credentials: CallCredentials,
): ServiceFetch {
  return async function serviceFetch(input, init) {
    const url = input instanceof Request ? input.url : String(input);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const canReplay = replayable(input, init);

    async function send(token: CachedToken): Promise<{ response: Response; nonceRetry: boolean }> {
      const prepared = await credentials.prepare(token, method, url);
      const response = await platformFetch()(input, withHeaders(input, init, prepared.headers));
      const { status, headers } = response;
      return { response, nonceRetry: credentials.wantsNonceRetry(url, status, headers, prepared.nonce) };
    }

    const first = await source.get();
    let { response, nonceRetry } = await send(first);
    if (nonceRetry && canReplay) {
      // RFC 9449 §9: the resource server wants its nonce in the proof; the same token, a new proof.
      emit({ type: 'agent.call.retried', key, status: response.status, reason: 'use_dpop_nonce' });
      await discard(response);
      ({ response } = await send(first));
    }
    if (!isInvalidTokenChallenge(response.status, response.headers.get('www-authenticate'))) return response;
    if (!canReplay) return response;
    void source.drop(first.access_token);
    const second = await source.get();
    emit({ type: 'agent.call.retried', key, status: response.status, reason: 'invalid_token' });
    await discard(response);
    // Exactly one retry for the token: whatever this answers goes back to the caller.
    return (await send(second)).response;
  };
}
