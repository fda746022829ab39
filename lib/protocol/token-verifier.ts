/**
 * Everything `bearer()` does to one token, without Express: the length bound, the verified-token
 * cache, then either JWT verification (JWKS or secret) or introspection for opaque tokens.
 *
 * Issuer metadata (discovery) is resolved once, lazily, before the first token is checked; after
 * that, and whenever the key is known, a token is verified synchronously.
 *
 * A cached verdict costs a map lookup, a string comparison and a number compare (`cached`): the checks
 * that time can undo (`exp`, `maxTokenAge`) are folded into the entry's expiry when it is stored.
 */

import type { BearerConfig } from '../config/bearer.js';
import { IdpUnavailableError, InvalidTokenError, PortcullisError } from '../errors.js';
import { type JwtVerifierContext, type VerifiedJwt, verifyJwtAccessToken } from './access-token.js';
import type { AuthResult } from './auth-result.js';
import { refuse } from './bearer-refusal.js';
import { createDiscovery, type Discovery, type IssuerMetadata } from './discovery.js';
import { createIntrospector, type Introspector } from './introspection.js';
import { createJwksStore } from './jwks.js';
import type { JwtPolicy } from './jwt-checks.js';
import { looksLikeJws } from './jwt-decode.js';
import { clientTransport, endpointUrl } from './mtls/client-transport.js';
import type { Emit } from './observability/emitter.js';
import type { IdpEvent } from './observability/events.js';
import { createTokenCache, type TokenCache, tokenHash } from './token-cache.js';
import { assertCallableUrl } from './url-policy.js';

export interface TokenVerifier {
  /** The cached verdict of `token`, or `undefined`: never throws, never waits. */
  cached(token: string): AuthResult | undefined;
  /** Verify a token `cached` did not know, and cache the verdict. Throws or rejects with a PortcullisError. */
  verifyFresh(token: string): AuthResult | Promise<AuthResult>;
  /** `cached`, else `verifyFresh`: synchronous when it can be. */
  verify(token: string): AuthResult | Promise<AuthResult>;
}

/** What a verifier shares with its product: the verdict cache (one for all issuers) and the IdP events. */
export interface VerifierHooks {
  readonly cache?: TokenCache<AuthResult> | undefined;
  readonly emit?: Emit<IdpEvent> | undefined;
}

/** The verdict cache of `bearer()`, shared by the verifiers of all its issuers. */
export function createVerdictCache(config: BearerConfig): TokenCache<AuthResult> {
  return createTokenCache<AuthResult>(config.cacheMaxEntries);
}

/** A token longer than `maxTokenLength` is refused unread: before any hash, decode or IdP call. */
export function checkTokenLength(token: string, config: BearerConfig): void {
  if (token.length > config.maxTokenLength) {
    throw refuse(new InvalidTokenError('the token is too long', { realm: config.realm }), {
      reason: 'too_long',
      expected: config.maxTokenLength,
      received: token.length,
    });
  }
}

export function cachedVerdicts(
  cache: TokenCache<AuthResult>,
  maxTokenLength: number,
  now: () => number,
): TokenVerifier['cached'] {
  // Same bytes, same verdict, until the moment stored with it. A token too long to have been verified
  // is not even looked up.
  return (token) => (token.length > maxTokenLength ? undefined : cache.get(token, now()));
}

interface Resolved {
  readonly ctx: JwtVerifierContext;
  readonly introspector: Introspector | undefined;
}

export function createTokenVerifier(
  config: BearerConfig,
  now: () => number = Date.now,
  hooks: VerifierHooks = {},
): TokenVerifier {
  const realm = config.realm;
  const cache = hooks.cache ?? createVerdictCache(config);
  const discovery: Discovery | undefined =
    config.issuerBaseURL === undefined
      ? undefined
      : createDiscovery({ issuer: config.issuerBaseURL, http: config.http, emit: hooks.emit });

  let resolved: Resolved | undefined;
  let resolving: Promise<Resolved> | undefined;

  async function jwksUri(): Promise<URL> {
    if (config.jwksUri !== undefined) return config.jwksUri;
    const metadata = await discovery!.get();
    if (metadata.jwks_uri === undefined) {
      throw new PortcullisError('ERR_DISCOVERY_FAILED', 'the IdP advertises no "jwks_uri"', { status: 503 });
    }
    return assertCallableUrl(metadata.jwks_uri, 'jwks_uri', config.http.allowInsecureHttp);
  }

  async function resolve(): Promise<Resolved> {
    const metadata = discovery === undefined ? undefined : await discovery.get();
    const policy: JwtPolicy = Object.freeze({
      algorithms: new Set(config.algorithms),
      allowJWTTyp: config.allowJWTTyp,
      issuers: config.issuers ?? [metadata!.issuer],
      allowedTenants: config.allowedTenants,
      audiences: config.audiences,
      clientIdAsAudience: config.clientIdAsAudience,
      clockTolerance: config.clockTolerance,
      maxTokenAge: config.maxTokenAge,
      realm,
    });
    const jwks = config.algorithms.some((alg) => !alg.startsWith('HS'))
      ? createJwksStore({
          uri: jwksUri,
          source: config.jwksUri === undefined ? undefined : 'jwksUri',
          http: config.http,
          cooldown: config.jwksCooldown,
          maxAge: config.jwksCacheMaxAge,
          realm,
          onKeysRemoved: (ids) => cache.dropKeys(ids),
          emit: hooks.emit,
          now,
        })
      : undefined;
    const ctx = { policy, jwks, secret: config.secret, permissionsAsScopes: config.permissionsAsScopes };
    let introspector: Introspector | undefined;
    if (config.introspection !== undefined) {
      const { client } = config.introspection;
      const endpoint = config.introspection.endpoint ?? introspectionEndpoint(metadata);
      // With a TLS client certificate (RFC 8705), the introspection call presents it.
      const http = clientTransport(config.http, client).http;
      introspector = createIntrospector(
        { endpoint, issuer: policy.issuers[0]!, client, http },
        () => policy,
        { permissions: config.permissionsAsScopes, now, emit: hooks.emit },
      );
    }
    return { ctx, introspector };
  }

  function introspectionEndpoint(metadata: IssuerMetadata | undefined): URL {
    // A client that uses mTLS calls the IdP's alias, when it has one (RFC 8705 §5).
    const url =
      metadata === undefined
        ? undefined
        : endpointUrl(
            metadata,
            'introspection_endpoint',
            config.introspection!.client,
            config.http.allowInsecureHttp,
          );
    if (url === undefined) {
      throw new PortcullisError('ERR_DISCOVERY_FAILED', 'the IdP advertises no "introspection_endpoint"', {
        status: 503,
      });
    }
    return assertCallableUrl(url, 'introspection_endpoint', config.http.allowInsecureHttp);
  }

  /**
   * When a verdict given at `at` (ms) could first change: at `exp`, when `maxTokenAge` runs out, or after
   * `cacheMaxAge`, whichever comes first. `nbf` and `iat` passed once pass for good as time goes on.
   * The bounds are those of checkTimes(), whose clock counts whole seconds.
   */
  function expiresAt(payload: AuthResult['payload'], at: number): number {
    let until = at + config.cacheMaxAge;
    const { exp, iat } = payload;
    if (typeof exp === 'number') until = Math.min(until, exp * 1000);
    if (config.maxTokenAge !== undefined && typeof iat === 'number') {
      // checkTimes refuses once `now - iat > maxTokenAge + clockTolerance`, `now` in whole seconds.
      const lastSecond = Math.floor(iat + config.maxTokenAge + config.clockTolerance);
      until = Math.min(until, (lastSecond + 1) * 1000);
    }
    return until;
  }

  function remember(
    token: string,
    hash: string,
    verified: VerifiedJwt | AuthResult,
    keyId: string | undefined,
  ): AuthResult {
    const result = 'result' in verified ? verified.result : verified;
    const at = now();
    cache.set(token, hash, result, expiresAt(result.payload, at), keyId, at);
    return result;
  }

  function verifyResolved(r: Resolved, token: string, hash: string): AuthResult | Promise<AuthResult> {
    if (!looksLikeJws(token)) {
      if (r.introspector === undefined) {
        throw refuse(new InvalidTokenError('the token is not a JWT', { realm }), { reason: 'opaque' });
      }
      return r.introspector
        .introspect(token, hash)
        .then((result) => remember(token, hash, result, undefined));
    }
    const verified = verifyJwtAccessToken(token, r.ctx, Math.floor(now() / 1000));
    return verified instanceof Promise
      ? verified.then((v) => remember(token, hash, v, v.keyId))
      : remember(token, hash, verified, verified.keyId);
  }

  const cached = cachedVerdicts(cache, config.maxTokenLength, now);

  function verifyFresh(token: string): AuthResult | Promise<AuthResult> {
    checkTokenLength(token, config);
    const hash = tokenHash(token);
    if (resolved !== undefined) return verifyResolved(resolved, token, hash);
    resolving ??= resolve()
      .then((r) => {
        resolved = r;
        return r;
      })
      .catch((err: unknown) => {
        throw err instanceof PortcullisError ? err : new IdpUnavailableError('the IdP could not be read');
      })
      .finally(() => {
        resolving = undefined;
      });
    return resolving.then((r) => verifyResolved(r, token, hash));
  }

  return { cached, verifyFresh, verify: (token) => cached(token) ?? verifyFresh(token) };
}
