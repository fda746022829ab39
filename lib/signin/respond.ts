/**
 * Responses written with Node's own `res`, so that the same code serves Express 4, Express 5 and
 * Connect. One helper decides between a redirect and a JSON 401 from the `Accept` header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * `Cache-Control: no-store`: neither the browser (its back button after logout) nor a shared cache
 * keeps the response. Set before the route runs, so that a route may still choose its own.
 */
export function preventCaching(res: ServerResponse): void {
  res.setHeader('cache-control', 'no-store');
}

export function redirect(res: ServerResponse, location: string, status = 302): void {
  res.statusCode = status;
  res.setHeader('location', location);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', '0');
  res.end();
}

/**
 * The answer to a client that is not a browser on a page that needs a login: a script or an API client
 * (`Accept` without `text/html`) cannot follow a redirect to the IdP's forms, so it is told where a
 * browser would have gone.
 */
export function sendUnauthenticated(res: ServerResponse, loginPath: string): void {
  sendJson(res, 401, {
    error: 'unauthorized',
    error_description: `authentication required: sign in at ${loginPath} first (a browser, which sends Accept: text/html, is redirected there)`,
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * True when the client asks for HTML explicitly (browsers send `text/html` on navigations). A bare
 * `*\/*` (curl, fetch, axios) is an API client: it gets a 401 instead of a redirect to a login page.
 */
export function prefersHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  if (typeof accept !== 'string') return false;
  for (const part of accept.toLowerCase().split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim());
    if (type !== 'text/html' && type !== 'application/xhtml+xml') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/** A middleware factory handed the request itself (`app.use(auth)` instead of `app.use(auth())`). */
export function looksLikeRequest(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && 'headers' in value && 'method' in value && 'url' in value
  );
}
