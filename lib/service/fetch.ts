/**
 * `agent.fetch(input, init)`: the platform fetch with the agent's token (`Authorization: Bearer`,
 * or `DPoP` with a fresh proof), retried once with a new token when the answer is a 401
 * `invalid_token`, and once with the new nonce when a DPoP resource server asks for one, as long as
 * the body can be sent again. Each retry happens at most once per call: never a loop.
 *
 * The hot path (a Bearer token in memory) adds no await and no `Headers` object of its own to the
 * platform's fetch: the header goes into a plain object, and the answer is only looked at when it is
 * a 401.
 */

import type { FetchLike } from '../protocol/http.js';
import { isInvalidTokenChallenge } from '../protocol/invalid-token-challenge.js';
import type { CallCredentials } from './call-credentials.js';
import type { EmitEvent } from './events.js';
import { isReplayableBody } from './replayable-body.js';
import type { CachedToken } from './token-cache.js';
import type { TokenSource } from './token-source.js';

export type ServiceFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

type Input = string | URL | Request;

function withHeaders(
  input: Input,
  init: RequestInit | undefined,
  added: Readonly<Record<string, string>>,
): RequestInit {
  // `init.headers` replaces a Request's own headers, so start from those.
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  for (const [name, value] of Object.entries(added)) headers.set(name, value);
  return { ...init, headers };
}

function isPlainRecord(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `init` with `Authorization: Bearer <token>`, replacing the caller's own (in any case). */
function bearerInit(input: Input, init: RequestInit | undefined, token: CachedToken): RequestInit {
  const authorization = `Bearer ${token.access_token}`;
  const own = init?.headers;
  // A Request's headers, a Headers object or a list of pairs: merged through Headers, as before.
  if (input instanceof Request || (own !== undefined && !isPlainRecord(own))) {
    return withHeaders(input, init, { authorization });
  }
  const headers: Record<string, string> = { authorization };
  if (own !== undefined) {
    for (const name of Object.keys(own)) {
      if (name.toLowerCase() !== 'authorization') headers[name] = own[name]!;
    }
  }
  return init === undefined ? { headers } : { ...init, headers };
}

function replayable(input: Input, init: RequestInit | undefined): boolean {
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
  /** One send with a DPoP proof, and its one nonce retry when `nonceRetry` allows it (RFC 9449 §9). */
  async function sendSigned(
    input: Input,
    init: RequestInit | undefined,
    token: CachedToken,
    nonceRetry: boolean,
  ) {
    const url = input instanceof Request ? input.url : String(input);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const prepared = await credentials.prepare(token, method, url);
    const response = await platformFetch()(input, withHeaders(input, init, prepared.headers));
    const wanted = credentials.wantsNonceRetry(url, response.status, response.headers, prepared.nonce);
    if (!nonceRetry || !wanted || !replayable(input, init)) return response;
    // The same token, a new proof with the nonce the resource server asked for.
    emit({ type: 'agent.call.retried', key, status: response.status, reason: 'use_dpop_nonce' });
    await discard(response);
    const again = await credentials.prepare(token, method, url);
    const second = await platformFetch()(input, withHeaders(input, init, again.headers));
    credentials.wantsNonceRetry(url, second.status, second.headers, again.nonce); // keeps its nonce
    return second;
  }

  function send(input: Input, init: RequestInit | undefined, token: CachedToken, nonceRetry: boolean) {
    return credentials.perCall
      ? sendSigned(input, init, token, nonceRetry)
      : platformFetch()(input, bearerInit(input, init, token));
  }

  return async function serviceFetch(input, init) {
    const first = source.peek() ?? (await source.get());
    const response = await send(input, init, first, true);
    if (response.status !== 401) return response;
    if (!isInvalidTokenChallenge(401, response.headers.get('www-authenticate'))) return response;
    if (!replayable(input, init)) return response;
    void source.drop(first.access_token);
    const second = await source.get();
    emit({ type: 'agent.call.retried', key, status: response.status, reason: 'invalid_token' });
    await discard(response);
    // Exactly one retry for the token: whatever this answers goes back to the caller.
    return send(input, init, second, false);
  };
}
