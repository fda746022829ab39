/**
 * API only: every /api route needs a valid access token from your IdP (bearer()), and each route
 * says which scopes or claims it needs. A refused request is answered as RFC 6750 says (401 or 403
 * with a WWW-Authenticate challenge) before your handler runs; the JSON error handler is for the rest.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { bearer, type Logger, requireAnyScope, requireClaim, requireScope } from 'portcullis';

export interface ApiExampleOptions {
  /** Your IdP: its discovery document gives the issuer and the keys that sign its tokens. */
  issuerBaseURL: string;
  /** This API's identifier: tokens whose `aud` is another API's are refused. */
  audience: string;
  /** Client IDs whose tokens may read the audit log (their `client_id` claim). */
  auditors: string[];
  /** Told why each token was refused, with what was expected and what came (`console` or pino). */
  logger?: Logger | undefined;
}

interface Order {
  id: number;
  item: string;
  by: string;
}

export function createApp(options: ApiExampleOptions): express.Express {
  const orders: Order[] = [{ id: 1, item: 'Portcullis (oak, 3 m)', by: 'seed' }];
  const app = express();
  const { issuerBaseURL, audience, logger } = options;
  // The client is told only what RFC 6750 allows ("unexpected aud claim"); the logger is told more.
  app.use('/api', bearer({ issuerBaseURL, audience, logger }));

  app.get('/api/orders', requireScope('orders:read'), (_req, res) => {
    res.json({ orders });
  });

  // The scope check runs before the body is parsed: a refused caller costs no parsing.
  app.post('/api/orders', requireScope('orders:write'), express.json(), (req, res) => {
    const { item } = (req.body ?? {}) as { item?: unknown };
    // req.auth: the verified token's header, payload and scopes.
    const order = {
      id: orders.length + 1,
      item: String(item ?? 'Drawbridge chain'),
      by: String(req.auth?.payload.sub),
    };
    orders.push(order);
    res.status(201).json({ order });
  });

  // Either scope will do.
  app.get('/api/reports', requireAnyScope('reports:read', 'orders:write'), (req, res) => {
    res.json({ orders: orders.length, yourScopes: req.auth?.scopes });
  });

  // Any claim, not only scopes: here, which client application the token was issued to.
  const isAuditor = requireClaim(
    'client_id',
    (id) => typeof id === 'string' && options.auditors.includes(id),
  );
  app.get('/api/audit', isAuditor, (_req, res) => {
    res.json({ entries: orders.map((o) => `${o.by} ordered ${o.item}`) });
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(jsonErrors);
  return app;
}

/**
 * Errors that are not about the token: a malformed JSON body (express.json() sets `status` 400),
 * your handlers' own failures. Token problems never get here: bearer() answered them already.
 */
function jsonErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
    return;
  }
  const status = err instanceof Error && 'status' in err && typeof err.status === 'number' ? err.status : 500;
  if (status < 500 && err instanceof Error) {
    res.status(status).json({ error: 'invalid_request', error_description: err.message });
    return;
  }
  console.error(err);
  res.status(500).json({ error: 'server_error', error_description: 'unexpected error' });
}
