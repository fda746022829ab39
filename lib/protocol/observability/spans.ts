/**
 * OpenTelemetry spans: the products' operations (`inSpan`), and every call to an IdP as an HTTP
 * client span (`tracedFetch`), a child of the span active when it was made, with the attributes and
 * the `http.client.request.duration` metric of OpenTelemetry's HTTP semantic conventions.
 *
 * Attributes name what happened, never a credential: the URL is the IdP's endpoint without its
 * query, there is no header or body, and errors are named by their `code` or class.
 */
import type { Attributes, Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import type { FetchLike } from '../http.js';
import { portcullisMeter, recorder } from './metrics.js';
import { loadOpenTelemetry, type OtelApi, openTelemetry } from './otel.js';

/** The spans of the products (API.md §7); IdP calls are named by their HTTP method, per semconv. */
export type SpanName =
  | 'portcullis.agent.token_request'
  | 'portcullis.signin.login'
  | 'portcullis.signin.callback'
  | 'portcullis.signin.refresh'
  | 'portcullis.signin.logout'
  | 'portcullis.signin.backchannel_logout'
  | 'portcullis.bearer.verify'
  | 'portcullis.idp.discovery'
  | 'portcullis.idp.jwks_fetch'
  | 'portcullis.idp.introspection';

/** What an operation may add to its span once it knows more (a token's lifetime, a reason). */
export interface SpanHandle {
  setAttribute(key: string, value: string | number | boolean): unknown;
}

const TRACER = 'portcullis';

/** `code` for portcullis errors (`ERR_IDP_UNAVAILABLE`), else the class (`TimeoutError`). */
function errorType(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_')) return code;
  return err instanceof Error ? err.name : 'unknown';
}

function fail(api: OtelApi, span: Span, err: unknown): void {
  span.setAttribute('error.type', errorType(err));
  // portcullis error messages name checks, never values (errors.ts); others are the platform's.
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : '' });
}

/**
 * Run `run` in a span named `name`, a child of the active span. Without OpenTelemetry, `run` is
 * called as it is. For the slow paths (token requests, logins): it waits for the first load.
 */
export async function inSpan<T>(
  name: SpanName,
  attributes: Attributes,
  run: (span: SpanHandle | undefined) => Promise<T>,
): Promise<T> {
  let api = openTelemetry();
  if (api === undefined) api = await loadOpenTelemetry();
  if (api === null) return run(undefined);
  const ready = api;
  return ready.trace.getTracer(TRACER).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await run(span);
    } catch (err) {
      fail(ready, span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * The tracer of the registered tracer provider, or `undefined` when none is registered. The API answers
 * with its no-op provider until an SDK registers one; a span asked of it would still be an object made
 * per call, so the hot paths ask this first. Looked up per call (a global read), as an SDK may be
 * registered after the products were created.
 */
let seen: { readonly delegate: unknown; readonly tracer: Tracer | undefined } | undefined;
let noopProvider: unknown;

export function activeTracer(api: OtelApi): Tracer | undefined {
  const provider = api.trace.getTracerProvider() as TracerProvider & { getDelegate?: () => unknown };
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  const last = seen;
  if (last !== undefined && last.delegate === delegate) return last.tracer;
  // The API's own no-op provider: what a proxy provider delegates to while no SDK is registered.
  noopProvider ??=
    typeof api.ProxyTracerProvider === 'function' ? new api.ProxyTracerProvider().getDelegate() : null;
  const tracer = delegate === noopProvider ? undefined : api.trace.getTracer(TRACER);
  seen = { delegate, tracer };
  return tracer;
}

/** A span that may end in the same tick or later: the synchronous counterpart of `inSpan`. */
export interface OpenSpan extends SpanHandle {
  /** Call `fn` with this span active, so that the spans it starts (IdP calls) are its children. */
  within<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R;
  /** End the span; with an error, as a failure (`error.type`, status ERROR). */
  end(error?: unknown): void;
}

/** An SDK span that may end later; its context is made only if something runs within it (a miss). */
class TracedSpan implements OpenSpan {
  readonly #api: OtelApi;
  readonly #span: Span;
  readonly #parent: Context;

  constructor(api: OtelApi, span: Span, parent: Context) {
    this.#api = api;
    this.#span = span;
    this.#parent = parent;
  }

  setAttribute(key: string, value: string | number | boolean): void {
    this.#span.setAttribute(key, value);
  }

  within<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    const api = this.#api;
    return api.context.with(api.trace.setSpan(this.#parent, this.#span), fn, undefined, ...args);
  }

  end(error?: unknown): void {
    if (error !== undefined) fail(this.#api, this.#span, error);
    this.#span.end();
  }
}

/**
 * Begin a span, a child of the active one, for work that may finish synchronously (a cached verdict)
 * or later. `undefined`, with nothing loaded or allocated, when OpenTelemetry is absent or no tracer
 * provider is registered.
 */
export function beginSpan(name: SpanName): OpenSpan | undefined {
  const api = openTelemetry();
  if (!api) return undefined;
  const tracer = activeTracer(api);
  if (tracer === undefined) return undefined;
  const parent = api.context.active();
  return new TracedSpan(api, tracer.startSpan(name, undefined, parent), parent);
}

function serverAttributes(url: URL): Attributes {
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return { 'server.address': url.hostname.replace(/^\[(.*)\]$/, '$1'), 'server.port': port };
}

async function clientCall(
  api: OtelApi,
  fetch: FetchLike,
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<Response> {
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const url = new URL(input instanceof Request ? input.url : String(input));
  const metric: Attributes = { 'http.request.method': method, ...serverAttributes(url) };
  // No query: an IdP endpoint needs none to be named, and a query is where a secret could hide.
  const attributes: Attributes = { ...metric, 'url.full': `${url.origin}${url.pathname}` };
  const started = performance.now();
  const options = { kind: api.SpanKind.CLIENT, attributes };
  return api.trace.getTracer(TRACER).startActiveSpan(method, options, async (span) => {
    try {
      const response = await fetch(input, init);
      span.setAttribute('http.response.status_code', response.status);
      metric['http.response.status_code'] = response.status;
      if (response.status >= 400) {
        span.setAttribute('error.type', String(response.status));
        metric['error.type'] = String(response.status);
        span.setStatus({ code: api.SpanStatusCode.ERROR });
      }
      return response;
    } catch (err) {
      fail(api, span, err);
      metric['error.type'] = errorType(err);
      throw err;
    } finally {
      span.end();
      try {
        portcullisMeter(api);
        recorder.seconds('http.client.request.duration', performance.now() - started, metric);
      } catch {
        // A broken metrics SDK must not fail the call.
      }
    }
  });
}

/** `fetch` for calls to an IdP: an HTTP client span for each when OpenTelemetry is there. */
export function tracedFetch(fetch: FetchLike): FetchLike {
  return function idpFetch(input, init) {
    const api = openTelemetry();
    return api ? clientCall(api, fetch, input, init) : fetch(input, init);
  };
}
