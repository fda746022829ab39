/**
 * An API on a plain `node:http` server, no Express: bearer() and the scope checks are Connect-style
 * `(req, res, next)` functions on Node's own request and response. On a refusal they answer by
 * themselves (401/400/403/503, RFC 6750); `next()` runs only when the request may go on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthenticatedRequest, bearer, type NodeMiddleware, requireScope } from 'portcullis';

export interface NodeHttpExampleOptions {
  /** Your IdP: its discovery document gives the issuer and the keys that sign its tokens. */
  issuerBaseURL: string;
  /** This API's identifier: tokens whose `aud` is another API's are refused. */
  audience: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function createHandler(options: NodeHttpExampleOptions): Handler {
  const orders = [{ id: 1, item: 'Portcullis (oak, 3 m)' }];
  // Built once, at start-up: bad options throw here, not on a request.
  const protect = bearer({ issuerBaseURL: options.issuerBaseURL, audience: options.audience });
  const canRead = requireScope('orders:read');
  const canWrite = requireScope('orders:write');

  return (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== '/api/orders') {
      json(res, 404, { error: 'not_found' });
    } else if (req.method === 'GET') {
      guard(req, res, [protect, canRead], () => json(res, 200, { orders }));
    } else if (req.method === 'POST') {
      guard(req, res, [protect, canWrite], () => {
        const order = { id: orders.length + 1, item: 'Drawbridge chain' };
        orders.push(order);
        // bearer() set req.auth: the verified token's header, payload and scopes.
        json(res, 201, { order, by: (req as AuthenticatedRequest).auth?.payload.sub });
      });
    } else {
      res.setHeader('allow', 'GET, POST');
      json(res, 405, { error: 'method_not_allowed' });
    }
  };
}

/** Run the middlewares in turn, then `handle`; an error passed to next() is a 500. */
function guard(req: IncomingMessage, res: ServerResponse, chain: NodeMiddleware[], handle: () => void): void {
  const [first, ...rest] = chain;
  if (first === undefined) {
    handle();
    return;
  }
  first(req, res, (err) => {
    if (err) {
      console.error(err);
      json(res, 500, { error: 'server_error' });
    } else {
      guard(req, res, rest, handle);
    }
  });
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
