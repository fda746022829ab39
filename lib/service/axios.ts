/**
 * `agent.attach(instance)`: interceptors on one axios instance (never the global default). axios is
 * an optional peer: nothing here imports it; the instance is duck-typed by its `interceptors`, so
 * the agent loads and works where axios is not installed.
 *
 * The hot path (a Bearer token in memory) is synchronous: axios runs a request's interceptors without
 * its promise chain when every interceptor that applies says `synchronous`, and `runWhen` lets the
 * agent pick per request between its synchronous interceptor (token in memory) and the asynchronous
 * one (a token to wait for, or a DPoP proof to sign). The call's URL (axios's `getUri()`, which
 * merges the whole config) is computed only for DPoP, and a response is only looked at when it is a
 * 401, or with DPoP for its nonce.
 */
import { headerValue } from '../protocol/dpop/nonce-memory.js';
import { isInvalidTokenChallenge } from '../protocol/invalid-token-challenge.js';
import type { CallCredentials } from './call-credentials.js';
import type { EmitEvent } from './events.js';
import { isReplayableBody } from './replayable-body.js';
import type { CachedToken } from './token-cache.js';
import type { TokenSource } from './token-source.js';

/** The part of an axios request config the agent touches. */
export interface AxiosLikeRequestConfig {
  headers?: unknown;
  data?: unknown;
  method?: string;
  url?: string;
  baseURL?: string;
}

/** The part of an axios response the agent reads. */
export interface AxiosLikeResponse {
  status: number;
  headers?: unknown;
  config?: unknown;
}

/** axios's interceptor options (0.21.2 and later); an instance that ignores them still works. */
export interface AxiosLikeInterceptorOptions {
  synchronous?: boolean;
  runWhen?: (config: AxiosLikeRequestConfig) => boolean;
}

export interface AxiosLikeInterceptors<V> {
  use(
    onFulfilled?: ((value: V) => V | Promise<V>) | null,
    onRejected?: ((error: unknown) => unknown) | null,
    options?: AxiosLikeInterceptorOptions,
  ): number;
}

/** What `attach()` needs of an axios instance: its interceptors, and `request` for the one retry. */
export interface AxiosLikeInstance {
  interceptors: {
    request: AxiosLikeInterceptors<AxiosLikeRequestConfig>;
    response: AxiosLikeInterceptors<AxiosLikeResponse>;
  };
  request(config: AxiosLikeRequestConfig): Promise<unknown>;
  /** The full URL of a request (base URL, path and query), for DPoP's `htu`. */
  getUri?(config?: AxiosLikeRequestConfig): string;
}

/**
 * Marks on a request's config. String keys, as axios-retry uses: axios copies unknown string keys
 * into the config of the request it sends again, while symbol keys are dropped by older 1.x releases.
 */
const RETRIED = 'portcullisRetried';
const NONCE_RETRIED = 'portcullisNonceRetried';
const SENT_NONCE = 'portcullisDpopNonce';
type Tagged = AxiosLikeRequestConfig & {
  [RETRIED]?: boolean;
  [NONCE_RETRIED]?: boolean;
  [SENT_NONCE]?: string | undefined;
};

function setHeaders(config: AxiosLikeRequestConfig, added: Readonly<Record<string, string>>): void {
  const headers = config.headers as { set?: (name: string, value: string) => unknown } | undefined;
  if (typeof headers?.set === 'function') {
    for (const [name, value] of Object.entries(added)) headers.set(name, value);
  } else {
    config.headers = { ...((config.headers as Record<string, unknown> | undefined) ?? {}), ...added };
  }
}

/** The request's absolute URL: axios's own `getUri()`, else base URL and path joined as axios does. */
function requestUrl(instance: AxiosLikeInstance, config: AxiosLikeRequestConfig): string {
  if (typeof instance.getUri === 'function') return instance.getUri(config);
  const url = config.url ?? '';
  if (/^[a-z][a-z\d+.-]*:/i.test(url) || config.baseURL === undefined) return url;
  return url === '' ? config.baseURL : `${config.baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

const SCHEME = /^(?:Bearer|DPoP) (.+)$/;

export function attachAxios<T extends AxiosLikeInstance>(
  instance: T,
  source: TokenSource,
  emit: EmitEvent,
  key: string,
  credentials: CallCredentials,
): T {
  if (typeof instance?.interceptors?.request?.use !== 'function' || typeof instance.request !== 'function') {
    throw new TypeError('attach() expects an axios instance, such as axios.create()');
  }
  /** The slow path: wait for a token (the first call, one past its time), or sign a DPoP proof. */
  async function authorize(config: AxiosLikeRequestConfig): Promise<AxiosLikeRequestConfig> {
    const token = await source.get();
    const method = (config.method ?? 'get').toUpperCase();
    const url = credentials.perCall ? requestUrl(instance, config) : '';
    const prepared = await credentials.prepare(token, method, url);
    setHeaders(config, prepared.headers);
    (config as Tagged)[SENT_NONCE] = prepared.nonce;
    return config;
  }

  if (credentials.perCall) {
    instance.interceptors.request.use(authorize);
  } else {
    // Set by the first `runWhen` and read right after, in the same synchronous pass of axios over
    // the interceptors of one request: no other request can run in between.
    let inMemory: CachedToken | undefined;
    let headerFor: CachedToken | undefined;
    let header = '';
    instance.interceptors.request.use(
      (config) => {
        // Undefined only when another interceptor of the application made axios chain them
        // asynchronously and a token was dropped meanwhile: a promise is then what axios expects.
        if (inMemory === undefined) return authorize(config);
        if (inMemory !== headerFor) {
          // One header string per token, not one per call: built once, flat, and reused.
          headerFor = inMemory;
          header = `Bearer ${inMemory.access_token}`;
        }
        const authorization = header;
        const headers = config.headers as { set?: (name: string, value: string) => unknown } | undefined;
        // axios's own AxiosHeaders, as every axios 1.x request has: set it in place, no object made.
        if (typeof headers?.set === 'function') headers.set('authorization', authorization);
        else setHeaders(config, { authorization });
        return config;
      },
      null,
      {
        synchronous: true,
        runWhen: () => {
          inMemory = source.peek();
          return inMemory !== undefined;
        },
      },
    );
    instance.interceptors.request.use(authorize, null, { runWhen: () => inMemory === undefined });
  }

  /** RFC 9449 §9: the resource server wants a new nonce in the proof. Same token, once. */
  function nonceRetry(status: number, headers: unknown, tagged: Tagged): boolean {
    if (!credentials.perCall) return false;
    let url: string;
    try {
      url = requestUrl(instance, tagged);
      new URL(url);
    } catch {
      return false;
    }
    const wanted = credentials.wantsNonceRetry(url, status, headers, tagged[SENT_NONCE]);
    return wanted && tagged[NONCE_RETRIED] !== true;
  }

  // A 401 reaches the error handler by default, or the success handler under a custom validateStatus.
  async function maybeRetry(
    status: number,
    headers: unknown,
    config: unknown,
  ): Promise<AxiosLikeResponse | undefined> {
    const tagged = config as Tagged | undefined;
    if (tagged === undefined) return undefined;
    if (nonceRetry(status, headers, tagged) && isReplayableBody(tagged.data)) {
      tagged[NONCE_RETRIED] = true;
      emit({ type: 'agent.call.retried', key, status, reason: 'use_dpop_nonce' });
      // Through the instance again: the request interceptor signs a proof with the new nonce.
      return (await instance.request(tagged)) as AxiosLikeResponse;
    }
    if (tagged[RETRIED] === true) return undefined;
    if (!isInvalidTokenChallenge(status, headerValue(headers, 'www-authenticate'))) return undefined;
    // The token this request carried: ours, since our interceptor set the header.
    const sent = headerValue(tagged.headers, 'authorization') ?? headerValue(tagged.headers, 'Authorization');
    const token = sent === undefined ? undefined : SCHEME.exec(sent)?.[1];
    if (token === undefined) return undefined;
    if (!isReplayableBody(tagged.data)) return undefined;
    void source.drop(token);
    tagged[RETRIED] = true;
    emit({ type: 'agent.call.retried', key, status, reason: 'invalid_token' });
    // Through the instance again: the request interceptor sets the new token.
    return (await instance.request(tagged)) as AxiosLikeResponse;
  }

  instance.interceptors.response.use(
    (response) => {
      // Only a 401 may be retried with a new token; with DPoP any answer may carry a nonce to keep.
      if (response.status !== 401 && !credentials.perCall) return response;
      return maybeRetry(response.status, response.headers, response.config).then(
        (retried) => retried ?? response,
      );
    },
    async (error: unknown) => {
      const { response, config } = (error ?? {}) as {
        response?: { status: number; headers?: unknown };
        config?: unknown;
      };
      if (response !== undefined) {
        const retried = await maybeRetry(response.status, response.headers, config ?? undefined);
        if (retried !== undefined) return retried;
      }
      throw error;
    },
  );
  return instance;
}
