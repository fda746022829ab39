/**
 * The routes of the end-to-end suites, behind auth() and an API at `apiBase` of the same app:
 * `/api/orders` answers the caller's `sub` and DPoP thumbprint, `/orders` calls it with the signed-in
 * user's token (`req.oidc.fetch()`), `/token` shows that token (to try it without its key).
 */
import type { Express } from 'express';
import { requireScope } from '../../lib/index.js';

export function ordersRoutes(app: Express, apiBase: () => string): void {
  app.get('/api/orders', requireScope('orders:read'), (req, res) => {
    res.json({ sub: req.auth!.payload.sub, jkt: req.auth!.dpop?.jkt });
  });
  app.get('/orders', async (req, res, next) => {
    try {
      const answer = await req.oidc.fetch(`${apiBase()}/api/orders`);
      res.status(answer.status).json(await answer.json());
    } catch (err) {
      next(err);
    }
  });
  app.get('/token', (req, res) => res.json({ token: req.oidc.accessToken?.access_token }));
}
