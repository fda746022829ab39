/**
 * Write an error the way RFC 6750 wants it, with Node's own `res` (no Express): the status, the
 * `WWW-Authenticate` challenge the error already holds (with DPoP's beside it when `bearer()` offers
 * DPoP), and a JSON `{ error, error_description }`.
 * An unreachable IdP is a 503 with `Retry-After` and a generic description (the detail goes to the
 * operator's log). Anything else is not ours: it goes to `next`.
 */
import type { ServerResponse } from 'node:http';
import { BearerChallengeError, PortcullisError } from '../errors.js';
import { UseDpopNonceError } from '../protocol/dpop/errors.js';
import { challengeFor } from './challenge.js';

export type Next = (err?: unknown) => void;

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: object): void {
  const json = JSON.stringify(body);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.setHeader('Cache-Control', 'no-store');
  res.end(json);
}

export function respondWithError(res: ServerResponse, err: unknown, next: Next): void {
  if (res.headersSent) {
    next(err);
  } else if (err instanceof BearerChallengeError) {
    const headers: Record<string, string> = { 'WWW-Authenticate': challengeFor(err, res.req) };
    if (err instanceof UseDpopNonceError) headers['DPoP-Nonce'] = err.nonce;
    send(res, err.status, headers, err.body);
  } else if (err instanceof PortcullisError && err.status >= 500) {
    const retryAfter = (err as { retryAfter?: unknown }).retryAfter;
    const status = err.status;
    send(
      res,
      status,
      status === 503 ? { 'Retry-After': String(typeof retryAfter === 'number' ? retryAfter : 5) } : {},
      // The client gets no IdP URL or operator advice: those are in the operator's log (`logger.error`).
      status === 503
        ? {
            error: 'temporarily_unavailable',
            error_description:
              'tokens cannot be checked right now (the identity provider is unavailable); try again later',
          }
        : { error: 'server_error', error_description: 'the token could not be checked' },
    );
  } else {
    next(err);
  }
}
