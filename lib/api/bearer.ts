/**
 * `bearer()`: the factory validates the options and builds the verifier; the middleware only finds
 * the token, hands it over, and writes the verdict. It uses Node's own `req`/`res`, so it runs in
 * Express 4 and 5, Connect and a plain `node:http` server alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BearerOptions } from '../config/bearer.js';
import { validateBearerOptions } from '../config/bearer-config.js';
import { guardSigninContext } from '../context-guard.js';
import { UnauthorizedError } from '../errors.js';
import { refuse, reportRefusal } from '../protocol/bearer-refusal.js';
import { createMultiIssuerVerifier } from '../protocol/multi-issuer-verifier.js';
import { beginSpan, tracedFetch } from '../protocol/observability/spans.js';
import { createTokenVerifier } from '../protocol/token-verifier.js';
import type { AuthResult } from '../types/express.js';
import { setRealm, setVerdictRealm } from './auth-source.js';
import { createBearerTelemetry, type Watch } from './bearer-telemetry.js';
import { createCertificateGate } from './certificate-binding.js';
import { createDpopGate } from './dpop.js';
import { type Credentials, checkTokenSyntax, findCredentials } from './get-token.js';
import { setRequestAuth } from './request-auth.js';
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
  const telemetry = createBearerTelemetry(config);
  // Every call to the IdP (discovery, JWKS, introspection) is an HTTP client span when traced.
  const traced = { ...config, http: { ...config.http, fetch: tracedFetch(config.http.fetch) } };
  const hooks = { emit: telemetry.emit };
  const verifier =
    config.issuerConfigs === undefined
      ? createTokenVerifier(traced, Date.now, hooks)
      : createMultiIssuerVerifier(traced, config.issuerConfigs, Date.now, hooks);
  const dpop = withSenderConstraint(config, createDpopGate(config));
  const certificates = createCertificateGate(config);
  const { realm, logger } = config;

  /** A verified token's bindings, on every verdict (cache hits too): its certificate, then DPoP. */
  function bind(
    req: IncomingMessage,
    res: ServerResponse,
    auth: AuthResult,
    credentials: Credentials,
  ): AuthResult | Promise<AuthResult> {
    return dpop.bind(req, res, certificates.bind(req, auth), credentials);
  }

  /** The operator hears why (the log); the client gets only what RFC 6750 allows (the answer). */
  function fail(res: ServerResponse, err: unknown, next: Next, watch: Watch | undefined): void {
    if (watch !== undefined) telemetry.refused(watch, err);
    reportRefusal(logger, err);
    respondWithError(res, err, next);
  }

  /** The request's token, its scheme checked and the DPoP policy applied; `undefined` when it has none. */
  function find(req: IncomingMessage, res: ServerResponse): Credentials | undefined {
    guardSigninContext(req, res); // a bearer-only app's `req.oidc` says to mount auth(), not `undefined`
    dpop.offer(req);
    const credentials = findCredentials(req, config);
    if (credentials === undefined) {
      if (!config.authRequired) {
        setRealm(req, realm); // for the checks further on, which may still refuse it
        return undefined;
      }
      throw refuse(new UnauthorizedError('authentication required', { realm }), { reason: 'missing' });
    }
    dpop.admit(req, credentials);
    return credentials;
  }

  /** A token the cache does not know: its syntax, then the whole verification, then its binding. */
  function verifyFresh(
    req: IncomingMessage,
    res: ServerResponse,
    credentials: Credentials,
  ): AuthResult | Promise<AuthResult> {
    checkTokenSyntax(credentials, realm);
    const verified = verifier.verifyFresh(credentials.token);
    return verified instanceof Promise
      ? verified.then((auth) => bind(req, res, auth, credentials))
      : bind(req, res, verified, credentials);
  }

  return function bearerMiddleware(req, res, next) {
    const span = beginSpan('portcullis.bearer.verify');
    const watch = telemetry.watch(span);
    let credentials: Credentials | undefined;
    let verdict: AuthResult | Promise<AuthResult>;
    let cached: AuthResult | undefined;
    try {
      credentials = find(req, res);
      if (credentials === undefined) {
        if (watch !== undefined) telemetry.skipped(watch);
        return next();
      }
      // A hit is a hash and a map lookup; only a miss runs the checks (in the span, so that the
      // IdP calls it makes are the span's children).
      cached = verifier.cached(credentials.token);
      verdict =
        cached !== undefined
          ? bind(req, res, cached, credentials)
          : span === undefined
            ? verifyFresh(req, res, credentials)
            : span.within(verifyFresh, req, res, credentials);
    } catch (err) {
      return fail(res, err, next, watch);
    }
    if (verdict instanceof Promise) {
      const { scheme } = credentials;
      verdict.then(
        (auth) => {
          if (watch !== undefined) telemetry.accepted(watch, scheme, cached !== undefined, auth);
          setVerdictRealm(auth, realm);
          try {
            proceed(req, auth, next);
          } catch (err) {
            next(err); // never an unhandled rejection (and a request left hanging); not a token problem
          }
        },
        (err: unknown) => fail(res, err, next, watch),
      );
    } else {
      if (watch !== undefined) telemetry.accepted(watch, credentials.scheme, cached !== undefined, verdict);
      setVerdictRealm(verdict, realm);
      proceed(req, verdict, next);
    }
  };
}

/** Outside any try: an error thrown further down the chain is not a token problem. */
function proceed(req: IncomingMessage, auth: AuthResult, next: Next): void {
  setRequestAuth(req, auth);
  next();
}

function isRequest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'headers' in value && 'method' in value;
}
