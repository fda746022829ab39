/**
 * `bearer()`: the factory validates the options and builds the verifier; the middleware only finds
 * the token, hands it over, and writes the verdict. It uses Node's own `req`/`res`, so it runs in
 * Express 4 and 5, Connect and a plain `node:http` server alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type BearerOptions, validateBearerOptions } from '../config/bearer.js';
import { guardSigninContext } from '../context-guard.js';
import { UnauthorizedError } from '../errors.js';
import { refuse, reportRefusal } from '../protocol/bearer-refusal.js';
import { createMultiIssuerVerifier } from '../protocol/multi-issuer-verifier.js';
import { createTokenVerifier } from '../protocol/token-verifier.js';
import type { AuthResult } from '../types/express.js';
import { setRealm } from './auth-source.js';
import { createCertificateGate } from './certificate-binding.js';
import { createDpopGate } from './dpop.js';
import { type Credentials, getCredentials } from './get-token.js';
import { type Next, respondWithError } from './respond.js';
import { withSenderConstraint } from './sender-constraint.js';

/** A middleware on Node's request and response: `(req, res, next)`. */
export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

/**
 * Protect routes with OAuth 2.0 bearer tokens (RFC 6750): JWT access tokens (RFC 9068) verified
 * against the IdP's JWKS, or opaque tokens by introspection (RFC 7662). On success sets
 * `req.auth = { token, header, payload, issuer, scopes }` (plus `dpop: { jkt }` for a DPoP-bound token); on
 * failure answers 400/401 with a `WWW-Authenticate: Bearer` challenge (and `DPoP` when DPoP is on),
 * or 503 with `Retry-After` when the IdP is unreachable.
 *
 * DPoP (RFC 9449): with `baseURL`, `Authorization: DPoP <token>` plus a `DPoP` proof is accepted
 * for tokens bound by `cnf.jkt`; a bound token is never accepted as a Bearer token.
 *
 * Several IdPs (`issuers`): the token's `iss` picks the IdP before any network call, and a token from
 * an issuer not listed is refused without a request.
 *
 * @example
 * app.use('/api', bearer({ issuerBaseURL: 'https://idp.example.com', audience: 'https://api.example.com' }));
 * app.use('/api', bearer({ issuers: [{ issuerBaseURL: 'https://sso.corp.example', audience: 'api' },
 *                                    { issuerBaseURL: 'https://idp.partner.example', audience: 'api' }] }));
 * app.use('/api', bearer({ issuerBaseURL, audience, baseURL: 'https://api.example.com', dpop: { required: true } }));
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export function bearer(options: BearerOptions = {}): NodeMiddleware {
  if (isRequest(options)) {
    throw new TypeError(
      'bearer must be called with its options: app.use(bearer({ ... })), not app.use(bearer)',
    );
  }
  const config = validateBearerOptions(options);
  const verifier =
    config.issuerConfigs === undefined
      ? createTokenVerifier(config)
      : createMultiIssuerVerifier(config, config.issuerConfigs);
  const dpop = withSenderConstraint(config, createDpopGate(config));
  const certificates = createCertificateGate(config);
  const { realm, logger } = config;

  /** The operator hears why (the log); the client gets only what RFC 6750 allows (the answer). */
  function fail(res: ServerResponse, err: unknown, next: Next): void {
    reportRefusal(logger, err);
    respondWithError(res, err, next);
  }

  /** The token is good: check its bindings (certificate, and DPoP with its proof), then go on. */
  function accept(
    req: IncomingMessage,
    res: ServerResponse,
    verified: AuthResult,
    credentials: Credentials,
    next: Next,
  ): void {
    let auth: AuthResult | Promise<AuthResult>;
    try {
      auth = dpop.bind(req, res, certificates.bind(req, verified), credentials);
    } catch (err) {
      fail(res, err, next);
      return;
    }
    if (auth instanceof Promise) {
      auth.then(
        (bound) => proceed(req, bound, next),
        (err: unknown) => fail(res, err, next),
      );
    } else {
      proceed(req, auth, next);
    }
  }

  return function bearerMiddleware(req, res, next) {
    let verdict: AuthResult | Promise<AuthResult>;
    let credentials: Credentials | undefined;
    try {
      guardSigninContext(req, res); // a bearer-only app's `req.oidc` says to mount auth(), not `undefined`
      setRealm(req, realm);
      dpop.offer(req);
      credentials = getCredentials(req, config);
      if (credentials === undefined) {
        if (!config.authRequired) return next();
        const missing = new UnauthorizedError('authentication required', { realm });
        return fail(res, refuse(missing, { reason: 'missing' }), next);
      }
      dpop.admit(req, credentials);
      verdict = verifier.verify(credentials.token);
    } catch (err) {
      return fail(res, err, next);
    }
    const found = credentials;
    if (verdict instanceof Promise) {
      verdict.then(
        (auth) => accept(req, res, auth, found, next),
        (err: unknown) => fail(res, err, next),
      );
    } else {
      accept(req, res, verdict, found, next);
    }
  };
}

/** Outside any try: an error thrown further down the chain is not a token problem. */
function proceed(req: IncomingMessage, auth: AuthResult, next: Next): void {
  (req as IncomingMessage & { auth?: AuthResult }).auth = auth;
  next();
}

function isRequest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'headers' in value && 'method' in value;
}
