/**
 * Outbound HTTP settings shared by every call portcullis makes to an IdP: the user's `fetch`
 * (proxies, custom CAs), a timeout so that a stalled IdP cannot hang a request, and the
 * https-only policy. `requestOptions()` turns them into oauth4webapi's per-call options.
 */
import * as oauth from 'oauth4webapi';
import { insecureAllowed } from './url-policy.js';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface HttpSettings {
  readonly fetch: FetchLike;
  /** Milliseconds before an outbound call is abandoned. */
  readonly timeout: number;
  readonly allowInsecureHttp: boolean;
}

/** The default timeout: long enough for a slow IdP, short enough that a user is not left hanging. */
export const DEFAULT_HTTP_TIMEOUT = 5000;

/** oauth4webapi's options for a call to `url`: our fetch, our timeout, and http only where allowed. */
export function requestOptions(
  http: HttpSettings,
  url: URL | string | undefined,
): {
  signal: () => AbortSignal;
  [oauth.customFetch]: (url: string, options: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;
  [oauth.allowInsecureRequests]?: boolean;
} {
  const options: ReturnType<typeof requestOptions> = {
    signal: () => AbortSignal.timeout(http.timeout),
    [oauth.customFetch]: (target, init) => http.fetch(target, init as RequestInit),
  };
  if (url !== undefined && insecureAllowed(new URL(url), http.allowInsecureHttp)) {
    options[oauth.allowInsecureRequests] = true;
  }
  return options;
}

/** A safe summary of an underlying error, for `cause`: never a response body, token or claim value. */
export function safeCause(err: unknown): { name: string; code?: string; message: string } | undefined {
  if (!isErrorLike(err)) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string'
    ? { name: err.name, code, message: err.message }
    : { name: err.name, message: err.message };
}

/**
 * Duck-typed rather than `instanceof Error`: fetch's errors and DOMExceptions may come from another
 * realm (a vm context, a test runner), where `instanceof` is false.
 */
function isErrorLike(err: unknown): err is { name: string; message: string } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { name?: unknown }).name === 'string' &&
    typeof (err as { message?: unknown }).message === 'string'
  );
}

/** True for errors that mean "the IdP could not be reached": network failure, reset, timeout. */
export function isNetworkError(err: unknown): boolean {
  if (!isErrorLike(err)) return false;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
  // undici reports connection refusals, resets and DNS failures as `TypeError: fetch failed`.
  return err.name === 'TypeError' && /fetch failed|network|socket|ECONN|terminated/i.test(err.message);
}

/** The longest `Retry-After` we take from an IdP, in seconds; anything longer is capped. */
const MAX_RETRY_AFTER = 3600;

/**
 * `Retry-After` (RFC 9110 §10.2.3), as seconds from now: delay-seconds or an HTTP date. Undefined when
 * absent or unreadable.
 */
export function retryAfterSeconds(headers: unknown, now = Date.now()): number | undefined {
  const value = (headers as { get?: (name: string) => string | null } | undefined)?.get?.('retry-after');
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  // An HTTP date names its day and month; anything else that Date.parse would take ("-5") is junk.
  const seconds = /^\d+$/.test(text)
    ? Number(text)
    : /^[A-Za-z]{3}, /.test(text)
      ? (Date.parse(text) - now) / 1000
      : Number.NaN;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER, Math.max(0, Math.ceil(seconds)));
}
