/**
 * Apps for the API tests: the same routes on Express 5, Express 4 and a plain node:http server,
 * so that every behaviour is checked on every host the middlewares claim to support.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express5 from 'express';
import express4 from 'express4';
import { type BearerOptions, bearer, requireAnyScope, requireClaim, requireScope } from '../../lib/index.js';
import type { AuthenticatedRequest } from '../../lib/types/express.js';

export type Host = 'express5' | 'express4';
export const HOSTS: Host[] = ['express5', 'express4'];

/** Routes: /api/me (bearer only), /api/orders (orders:read), /api/write (orders:write + read),
 *  /api/any (reports:read or orders:read), /api/claim (sub = user-1). */
export function buildApp(host: Host, options: BearerOptions): express5.Express {
  const express = host === 'express5' ? express5 : (express4 as unknown as typeof express5);
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use('/api', bearer(options));
  app.get('/api/me', (req, res) => {
    res.json({ sub: req.auth?.payload.sub, scopes: req.auth?.scopes });
  });
  app.post('/api/me', (req, res) => {
    res.json({ sub: req.auth?.payload.sub });
  });
  app.get('/api/orders', requireScope('orders:read'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/api/write', requireScope('orders:write', 'orders:read'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/api/any', requireAnyScope('reports:read', 'orders:read'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/api/claim', requireClaim('sub', 'user-1'), (_req, res) => {
    res.json({ ok: true });
  });
  return app;
}

/** The same protection in a plain node:http server, without any framework. */
export function buildNodeServer(options: BearerOptions): Server {
  const protect = bearer(options);
  const needRead = requireScope('orders:read');
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const fail = (err?: unknown): void => {
      res.statusCode = 500;
      res.end(String(err));
    };
    protect(req, res, (err) => {
      if (err !== undefined) return fail(err);
      needRead(req, res, (err2) => {
        if (err2 !== undefined) return fail(err2);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ sub: (req as AuthenticatedRequest).auth?.payload.sub }));
      });
    });
  });
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
