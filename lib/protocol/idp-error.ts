/**
 * A failed call to the IdP, told so that an operator can act on it: what was called (the URL, never
 * its query), what it answered (the HTTP status and content type, the IdP's `error` and
 * `error_description`), and what to check. oauth4webapi's own words ("\"response\" is not a conform
 * ... response") name neither the URL nor the status; its errors keep the `Response` (as `cause`, or
 * as a non-enumerable `response`), which is read here and never kept: its body may hold a token.
 *
 * Unreachable, timed out, 5xx and 429 → 503 {@link IdpUnavailableError} (retryable); an OAuth error
 * body or challenge → {@link OAuthResponseError} with the IdP's `error`; anything else → the call's
 * own code and status.
 */
import * as oauth from 'oauth4webapi';
import {
  IdpUnavailableError,
  OAuthResponseError,
  PortcullisError,
  type PortcullisErrorCode,
} from '../errors.js';
import { isNetworkError, retryAfterSeconds, safeCause } from './http.js';
import {
  defaultSource,
  endpointName,
  type IdpClient,
  type IdpEndpoint,
  type IdpGrant,
  oauthErrorAdvice,
  statusAdvice,
} from './idp-advice.js';

export type { IdpClient, IdpEndpoint, IdpGrant } from './idp-advice.js';

/** One call to the IdP, described for its error message. */
export interface IdpCall {
  /** What portcullis was doing, first in the message: "discovery", "code exchange", … */
  readonly step: string;
  readonly endpoint: IdpEndpoint;
  /** The URL called; only its origin and path are ever shown. */
  readonly url: string | URL | undefined;
  /** Where that URL comes from (an option, the discovery document), for the advice. */
  readonly source?: string | undefined;
  readonly client?: IdpClient | undefined;
  readonly grant?: IdpGrant | undefined;
  /** The code and status of an unusable answer (a 404, HTML, a malformed body). */
  readonly code: PortcullisErrorCode;
  readonly status: number;
  /** The code of an OAuth error answer. @default 'ERR_OAUTH_RESPONSE' */
  readonly oauthCode?: PortcullisErrorCode | undefined;
}

/** 5xx, and 429 (RFC 6585): the IdP cannot serve us now, so a later try may work. */
function unavailable(status: number): boolean {
  return status >= 500 || status === 429;
}

/** The URL as shown: no credentials, query or fragment, so that nothing secret can ride along. */
export function publicUrl(url: string | URL | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return undefined;
  }
}

/** Text from the IdP, made safe for a message: printable, one line, bounded. */
function clean(text: string, max = 300): string {
  const line = text.replace(/[^\x20-\x7e\u00a0-\uffff]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function contentType(response: Response): string {
  const type = response.headers.get('content-type')?.split(';')[0]?.trim();
  return type === undefined || type === '' ? 'no content-type' : clean(type, 60);
}

/** "the token endpoint https://idp/token", or the discovery URL alone (it names itself). */
function where(call: IdpCall, url = publicUrl(call.url)): string {
  if (url === undefined) return endpointName(call.endpoint);
  return call.endpoint === 'discovery' ? url : `${endpointName(call.endpoint)} ${url}`;
}

function source(call: IdpCall): string {
  return call.source ?? defaultSource(call.endpoint);
}

function location(
  call: IdpCall,
  response: Response | undefined,
): { idpUrl: string | undefined; idpStatus: number | undefined } {
  return { idpUrl: publicUrl(call.url) ?? publicUrl(response?.url), idpStatus: response?.status };
}

/**
 * Duck-typed rather than `instanceof Response`: a custom `fetch` (or a test runner) may hand back a
 * Response of another realm, as oauth4webapi's own `looseInstanceOf` allows.
 */
export function isResponse(value: unknown): value is Response {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { status?: unknown }).status === 'number' &&
    typeof (value as { headers?: { get?: unknown } }).headers?.get === 'function'
  );
}

/** The Response an oauth4webapi error carries, if it carries one. */
function responseOf(err: unknown): Response | undefined {
  const candidates = [(err as { response?: unknown }).response, (err as { cause?: unknown }).cause];
  return candidates.find(isResponse);
}

/** The IdP could not be reached, or did not answer in time. */
function unreachable(err: unknown, call: IdpCall): IdpUnavailableError {
  const { name } = err as { name: string };
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  const what =
    name === 'TimeoutError' || name === 'AbortError'
      ? 'did not answer in time (httpTimeout): the IdP is slow or overloaded; retry later, or raise httpTimeout'
      : `could not be reached${typeof code === 'string' ? ` (${clean(code, 40)})` : ''}: check ${source(call)}, and that this server can reach the IdP (DNS, proxy, firewall)`;
  return new IdpUnavailableError(`${call.step} failed: ${where(call)} ${what}`, {
    cause: safeCause(err),
    idpUrl: publicUrl(call.url),
  });
}

function unavailableError(
  call: IdpCall,
  response: Response,
  said: string,
  err: unknown,
): IdpUnavailableError {
  const why =
    response.status === 429
      ? 'the IdP is rate-limiting this client; retry after its Retry-After'
      : 'the IdP is down or overloaded; retry later';
  return new IdpUnavailableError(`${call.step} failed: ${where(call)} answered ${said}: ${why}`, {
    cause: safeCause(err),
    retryAfter: retryAfterSeconds(response.headers),
    ...location(call, response),
  });
}

/** The IdP answered an OAuth error (a JSON body, or a `WWW-Authenticate` challenge). */
export function oauthResponseError(
  call: IdpCall,
  response: Response,
  found: { error: string; error_description?: string | undefined },
  err: unknown,
): PortcullisError {
  const error = clean(found.error, 80);
  const description = found.error_description === undefined ? undefined : clean(found.error_description);
  const said = `${response.status} "${error}"${description === undefined ? '' : ` (${description})`}`;
  if (unavailable(response.status)) return unavailableError(call, response, said, err);
  const code = call.oauthCode ?? 'ERR_OAUTH_RESPONSE';
  const advice = oauthErrorAdvice(error, call);
  return new OAuthResponseError(
    code,
    `${call.step} failed: ${where(call)} answered ${said}: ${advice}`,
    { error, error_description: description },
    {
      // At sign-in, a spent code or refresh token is the browser's problem (400), not the IdP's.
      status: error === 'invalid_grant' && code === 'ERR_OAUTH_RESPONSE' ? 400 : 502,
      cause: safeCause(err),
      ...location(call, response),
    },
  );
}

/** The IdP answered, but not with anything usable: a 404, an HTML page, a malformed body. */
export function unusableAnswerError(
  call: IdpCall,
  response: Response,
  problem?: string,
  err?: unknown,
): PortcullisError {
  const said = `${response.status} (${contentType(response)})`;
  if (unavailable(response.status)) return unavailableError(call, response, said, err);
  const message =
    response.status >= 200 && response.status < 300
      ? `${call.step} failed: ${where(call)} answered ${said}, but ${problem ?? 'no usable document'}: check ${source(call)}`
      : `${call.step} failed: ${where(call)} answered ${said}: ${statusAdvice(call.endpoint, response.status, source(call))}`;
  return new PortcullisError(call.code, message, {
    status: call.status,
    cause: safeCause(err),
    ...location(call, response),
  });
}

/** A challenge's `error`, else the JSON body's (oauth4webapi leaves the body of a 401 unread). */
async function challengeError(
  err: oauth.WWWAuthenticateChallengeError,
): Promise<{ error: string; error_description?: string | undefined }> {
  const params = err.cause[0]?.parameters;
  const body: unknown = await err.response.json().catch(() => undefined);
  const field = (name: 'error' | 'error_description'): string | undefined => {
    const value = params?.[name] ?? (body as Record<string, unknown> | undefined)?.[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const fallback = err.status === 401 ? 'invalid_client' : 'invalid_request';
  return { error: field('error') ?? fallback, error_description: field('error_description') };
}

/**
 * An OAuth error in a body oauth4webapi did not read: it reads none for userinfo (RFC 6750 §3 puts it
 * in a challenge), yet IdPs send one there. Never for discovery or JWKS, where a 404's JSON says less
 * than the status does.
 */
async function unreadOAuthError(
  call: IdpCall,
  response: Response,
): Promise<{ error: string; error_description?: string | undefined } | undefined> {
  if (call.endpoint === 'discovery' || call.endpoint === 'jwks') return undefined;
  if (response.status < 400 || response.status >= 500 || response.bodyUsed) return undefined;
  if (!/json/i.test(response.headers.get('content-type') ?? '')) return undefined;
  const body: unknown = await response.json().catch(() => undefined);
  const { error, error_description } = (body ?? {}) as Record<string, unknown>;
  if (typeof error !== 'string' || error === '') return undefined;
  return { error, error_description: typeof error_description === 'string' ? error_description : undefined };
}

/** oauth4webapi's words about a body it refused, without the `"response"` jargon. */
function problemOf(err: unknown): string {
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' ? clean(message.replace(/"response" /g, ''), 200) : 'it is malformed';
}

/** Map an error from a call to the IdP to a portcullis error that says what to do. */
export async function idpError(err: unknown, call: IdpCall): Promise<PortcullisError> {
  if (err instanceof PortcullisError) return err;
  if (isNetworkError(err)) return unreachable(err, call);
  if (err instanceof oauth.ResponseBodyError) {
    return oauthResponseError(call, err.response, err, err);
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    return oauthResponseError(call, err.response, await challengeError(err), err);
  }
  const response = responseOf(err);
  if (response !== undefined) {
    const found = await unreadOAuthError(call, response);
    if (found !== undefined) return oauthResponseError(call, response, found, err);
    return unusableAnswerError(call, response, problemOf(err), err);
  }
  // A body that is not JSON at all, a field missing, a refused request: no Response left to read.
  return new PortcullisError(call.code, `${call.step} failed: ${where(call)}: ${problemOf(err)}`, {
    status: call.status,
    cause: safeCause(err),
    idpUrl: publicUrl(call.url),
  });
}
