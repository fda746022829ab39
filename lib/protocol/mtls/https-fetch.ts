/**
 * A `fetch` that presents a TLS client certificate (RFC 8705), over Node's own `https` with an Agent
 * that holds the certificate. The platform's fetch (undici) takes a client certificate only through
 * an undici dispatcher, which portcullis cannot build without a dependency; oauth4webapi's
 * `customFetch` hook takes any fetch, so this one carries the certificate to the IdP.
 *
 * It keeps fetch's contract where portcullis and its callers rely on it: the request is read through
 * `new Request()` (so every body fetch accepts works, buffered), `redirect` ('follow' up to 20,
 * 'manual', 'error'), `signal` (an abort rejects with its reason), a network failure rejects with
 * `TypeError('fetch failed')`, and the answer is a streaming `Response`. Plain `http:` URLs (loopback
 * in development) cannot carry a certificate and go to the platform's fetch.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import type { FetchLike } from '../http.js';
import type { ClientCertificate } from './client-certificate.js';

/**
 * The Agent of a client certificate: its connections are kept alive, as Node's global Agent keeps them
 * (idle ones closed after 5 s, and never keeping the process alive), so that an Agent no longer used, a
 * provider `resolveProvider` dropped, leaves no connection behind for long.
 */
export function certificateAgent(certificate: ClientCertificate): Agent {
  return new Agent({
    keepAlive: true,
    timeout: 5000,
    cert: certificate.chain,
    // PEM: Node's TLS options type takes no KeyObject.
    key: certificate.key.export({ type: 'pkcs8', format: 'pem' }),
    ...(certificate.serverCA === undefined ? {} : { ca: [...rootCertificates, ...certificate.serverCA] }),
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/** Fetch drops these on a redirect to another origin (WHATWG Fetch §4.4, "HTTP-redirect fetch"). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'dpop'];

function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

function toResponse(res: import('node:http').IncomingMessage, method: string, url: string): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // A header fetch would refuse too: left out.
    }
  }
  const status = res.statusCode ?? 0;
  const empty = NULL_BODY.has(status) || method === 'HEAD';
  if (empty) res.resume();
  const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  const response = new Response(body, { status, statusText: res.statusMessage ?? '', headers });
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

/** One exchange, no redirect followed. */
async function exchange(request: Request, agent: Agent): Promise<Response> {
  const { signal } = request;
  const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer());
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (body !== undefined) headers['content-length'] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const req = httpsRequest(request.url, { method: request.method, headers, agent });
    const onAbort = () => req.destroy(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(signal.aborted ? signal.reason : fetchFailed(err));
    });
    req.on('response', (res) => {
      // An abort while the body streams errors the body, as fetch's does.
      res.on('close', () => signal.removeEventListener('abort', onAbort));
      try {
        resolve(toResponse(res, request.method, request.url));
      } catch (err) {
        res.destroy();
        reject(fetchFailed(err)); // a status fetch cannot represent
      }
    });
    req.end(body);
  });
}

/** The request a redirect leads to, as fetch builds it; `undefined` when the answer is no redirect. */
async function redirected(request: Request, response: Response): Promise<Request | undefined> {
  const location = response.headers.get('location');
  if (!REDIRECTS.has(response.status) || location === null) return undefined;
  const target = new URL(location, request.url);
  const toGet =
    response.status === 303
      ? request.method !== 'HEAD'
      : (response.status === 301 || response.status === 302) && request.method === 'POST';
  const headers = new Headers(request.headers);
  if (target.origin !== new URL(request.url).origin) {
    for (const name of CREDENTIAL_HEADERS) headers.delete(name);
  }
  if (toGet) {
    for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language']) {
      headers.delete(name);
    }
  }
  const body = toGet || request.body === null ? null : await request.arrayBuffer();
  return new Request(target, {
    method: toGet ? 'GET' : request.method,
    headers,
    body,
    redirect: request.redirect,
    signal: request.signal,
  });
}

/** A fetch whose https connections present the Agent's client certificate. */
export function httpsFetch(agent: Agent): FetchLike {
  return async function certificateFetch(input, init) {
    let request = new Request(input, init);
    for (let hops = 0; ; hops++) {
      if (new URL(request.url).protocol !== 'https:') {
        return globalThis.fetch(request);
      }
      // A body that a 307 or 308 would send again is read from a clone.
      const reusable = request.redirect !== 'manual' && request.body !== null;
      const response = await exchange(reusable ? request.clone() : request, agent);
      if (request.redirect === 'manual') return response;
      const next = await redirected(request, response);
      if (next === undefined) return response;
      await response.body?.cancel();
      if (request.redirect === 'error') throw fetchFailed(new Error('unexpected redirect'));
      if (hops >= MAX_REDIRECTS) throw fetchFailed(new Error('redirect count exceeded'));
      request = next;
    }
  };
}
