/**
 * `bearer()`: the factory validates the options and builds the verifier; the middleware only finds
 * the token, hands it over, and writes the verdict. It uses Node's own `req`/`res`, so it runs in
 * Express 4 and 5, Connect and a plain `node:http` server alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BearerOptions, validateBearerOptions } from '../config/bearer.js';
import { UnauthorizedError } from '../errors.js';
import { createTokenVerifier } from '../protocol/token-verifier.js';
import type { AuthResult } from '../types/express.js';
import { setRealm } from './auth-source.js';
import { getToken } from './get-token.js';
import { type Next, respondWithError } from './respond.js';

/** A middleware on Node's request and response: `(req, res, next)`. */
export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/**
 * Protect routes with OAuth 2.0 bearer tokens (RFC 6750): JWT access tokens (RFC 9068) verified
 * against the IdP's JWKS, or opaque tokens by introspection (RFC 7662). On success sets
 * `req.auth = { token, header, payload, scopes }`; on failure answers 400/401 with a
 * `WWW-Authenticate: Bearer` challenge, or 503 with `Retry-After` when the IdP is unreachable.
 *
 * @example
 * app.use('/api', bearer({ issuerBaseURL: 'https://idp.example.com', audience: 'https://api.example.com' }));
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export function bearer(options: BearerOptions = {}): NodeMiddleware {
  if (isRequest(options)) {
    throw new TypeError(
      'bearer must be called with its options: app.use(bearer({ ... })), not app.use(bearer)',
    );
  }
  const config = validateBearerOptions(options);
  const verifier = createTokenVerifier(config);
  const { realm } = config;

  return function bearerMiddleware(req, res, next) {
    let verdict: AuthResult | Promise<AuthResult>;
    try {
      setRealm(req, realm);
      const token = getToken(req, config);
      if (token === undefined) {
        if (!config.authRequired) return next();
        return respondWithError(res, new UnauthorizedError('authentication required', { realm }), next);
      }
      verdict = verifier.verify(token);
    } catch (err) {
      return respondWithError(res, err, next);
    }
    // Outside the try: an error thrown further down the chain is not a token problem.
    if (verdict instanceof Promise) {
      verdict.then(
        (auth) => accept(req, auth, next),
        (err: unknown) => respondWithError(res, err, next),
      );
    } else {
      accept(req, verdict, next);
    }
  };
}

function accept(req: IncomingMessage, auth: AuthResult, next: Next): void {
  (req as IncomingMessage & { auth?: AuthResult }).auth = auth;
  next();
}

function isRequest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'headers' in value && 'method' in value;
}
