/**
 * `agent.attach(instance)`: interceptors on one axios instance (never the global default). axios is
 * an optional peer: nothing here imports it; the instance is duck-typed by its `interceptors`, so
 * the agent loads and works where axios is not installed.
 */
import { isInvalidTokenChallenge } from '../protocol/invalid-token-challenge.js';
import type { EmitEvent } from './events.js';
import { isReplayableBody } from './replayable-body.js';
import type { TokenSource } from './token-source.js';

/** The part of an axios request config the agent touches. */
export interface AxiosLikeRequestConfig {
  headers?: unknown;
  data?: unknown;
}

/** The part of an axios response the agent reads. */
export interface AxiosLikeResponse {
  status: number;
  headers?: unknown;
  config?: unknown;
}

interface Interceptors<V> {
  use(
    onFulfilled?: ((value: V) => V | Promise<V>) | null,
    onRejected?: ((error: unknown) => unknown) | null,
  ): number;
}

/** What `attach()` needs of an axios instance: its interceptors, and `request` for the one retry. */
export interface AxiosLikeInstance {
  interceptors: {
    request: Interceptors<AxiosLikeRequestConfig>;
    response: Interceptors<AxiosLikeResponse>;
  };
  request(config: AxiosLikeRequestConfig): Promise<unknown>;
}

/**
 * Marks a retried request. A string key, as axios-retry uses: axios copies unknown string keys into
 * the config of the request it sends again, while symbol keys are dropped by older 1.x releases.
 */
const RETRIED = 'portcullisRetried';
type Tagged = AxiosLikeRequestConfig & { [RETRIED]?: boolean };

function setAuthorization(config: AxiosLikeRequestConfig, value: string): void {
  const headers = config.headers as { set?: (name: string, value: string) => unknown } | undefined;
  if (typeof headers?.set === 'function') headers.set('Authorization', value);
  else
    config.headers = {
      ...((config.headers as Record<string, unknown> | undefined) ?? {}),
      Authorization: value,
    };
}

function header(headers: unknown, name: string): unknown {
  if (headers === null || typeof headers !== 'object') return undefined;
  const get = (headers as { get?: (n: string) => unknown }).get;
  if (typeof get === 'function') return get.call(headers, name);
  return (headers as Record<string, unknown>)[name];
}

export function attachAxios<T extends AxiosLikeInstance>(
  instance: T,
  source: TokenSource,
  emit: EmitEvent | undefined,
  key: string,
): T {
  if (typeof instance?.interceptors?.request?.use !== 'function' || typeof instance.request !== 'function') {
    throw new TypeError('attach() expects an axios instance, such as axios.create()');
  }
  instance.interceptors.request.use(async (config) => {
    const token = await source.get();
    setAuthorization(config, `Bearer ${token.access_token}`);
    return config;
  });

  // A 401 reaches the error handler by default, or the success handler under a custom validateStatus.
  async function maybeRetry(
    status: number,
    headers: unknown,
    config: unknown,
  ): Promise<AxiosLikeResponse | undefined> {
    const tagged = config as Tagged | undefined;
    if (tagged === undefined || tagged[RETRIED] === true) return undefined;
    if (!isInvalidTokenChallenge(status, header(headers, 'www-authenticate'))) return undefined;
    // The token this request carried: ours, since our interceptor set the header.
    const sent = header(tagged.headers, 'authorization') ?? header(tagged.headers, 'Authorization');
    if (typeof sent !== 'string' || !sent.startsWith('Bearer ')) return undefined;
    if (!isReplayableBody(tagged.data)) return undefined;
    void source.drop(sent.slice(7));
    tagged[RETRIED] = true;
    emit?.({ type: 'call_retried', key, status });
    // Through the instance again: the request interceptor sets the new token.
    return (await instance.request(tagged)) as AxiosLikeResponse;
  }

  instance.interceptors.response.use(
    async (response) => (await maybeRetry(response.status, response.headers, response.config)) ?? response,
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
