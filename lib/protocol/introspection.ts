/**
 * Opaque access tokens: RFC 7662 token introspection, as a request/process pair. The verdict gets
 * the same checks as a JWT's claims (active, `iss`, `aud`, times) and the same cache; concurrent
 * requests carrying one token share one call to the IdP. An inactive token is remembered too (a
 * revoked, expired or made-up token never becomes active again), so that a client retrying a dead
 * token, or a flood of junk ones repeated, does not turn every request into a call to the IdP.
 * Each call is a `portcullis.idp.introspection` span (its HTTP call a client span below it) and an
 * `idp.introspection.completed` or `.failed` event; an answer from the inactive cache is an event too.
 */
import type { JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import { InvalidTokenError, type PortcullisError } from '../errors.js';
import type { AuthResult } from './auth-result.js';
import { refuse, shown } from './bearer-refusal.js';
import type { ClientAuthConfig } from './client-auth.js';
import { createClientAuth } from './client-auth.js';
import { type HttpSettings, requestOptions } from './http.js';
import { type IdpCall, idpError, publicUrl } from './idp-error.js';
import { checkAudience, checkIssuer, checkTimes, type JwtPolicy } from './jwt-checks.js';
import type { Emit } from './observability/emitter.js';
import type { IdpEvent } from './observability/events.js';
import { inSpan } from './observability/spans.js';
import { scopesOf } from './scopes.js';
import { createTokenCache } from './token-cache.js';

export interface IntrospectionTarget {
  readonly endpoint: URL;
  readonly issuer: string;
  readonly client: ClientAuthConfig;
  readonly http: HttpSettings;
}

/** The introspection call as error messages describe it. */
function introspectionCall(target: IntrospectionTarget): IdpCall {
  return {
    step: 'token introspection',
    endpoint: 'introspection',
    url: target.endpoint,
    client: { id: target.client.clientID, method: target.client.method },
    code: 'ERR_IDP_UNAVAILABLE',
    status: 503,
  };
}

/** `active: false`: final for this token, unlike a time check that a later request may pass. */
class InactiveTokenError extends InvalidTokenError {
  override name = 'InvalidTokenError'; // the same error to the outside; the subclass is a private mark
}

/** POST the token to the introspection endpoint. Only sends; {@link processIntrospection} checks. */
export async function introspectionRequest(
  target: IntrospectionTarget,
  clientAuth: () => Promise<oauth.ClientAuth>,
  token: string,
): Promise<Response> {
  const as: oauth.AuthorizationServer = {
    issuer: target.issuer,
    introspection_endpoint: target.endpoint.href,
  };
  return oauth.introspectionRequest(as, { client_id: target.client.clientID }, await clientAuth(), token, {
    ...requestOptions(target.http, target.endpoint),
    additionalParameters: { token_type_hint: 'access_token' },
  });
}

/** Validate an introspection response and turn it into an {@link AuthResult}. */
export async function processIntrospection(
  target: IntrospectionTarget,
  response: Response,
  token: string,
  policy: JwtPolicy,
  { permissions, now }: { permissions: boolean; now: () => number },
): Promise<AuthResult> {
  const as = { issuer: target.issuer, introspection_endpoint: target.endpoint.href };
  const body = await oauth.processIntrospectionResponse(as, { client_id: target.client.clientID }, response);
  const realm = policy.realm;
  if (body.active !== true) {
    throw refuse(new InactiveTokenError('the token is not active', { realm }), { reason: 'inactive' });
  }
  if (body.token_type !== undefined && /refresh/i.test(body.token_type)) {
    throw refuse(new InvalidTokenError('the token is not an access token', { realm }), {
      reason: 'token_type',
      expected: 'access_token',
      received: shown(body.token_type),
    });
  }
  const payload = { ...body } as JWTPayload;
  if (payload.iss !== undefined) checkIssuer(payload, policy);
  checkAudience(payload, policy);
  if (payload.exp !== undefined) checkTimes(payload, policy, Math.floor(now() / 1000));
  return Object.freeze({
    token,
    header: Object.freeze({}),
    payload: Object.freeze(payload),
    issuer: typeof payload.iss === 'string' ? payload.iss : target.issuer,
    scopes: Object.freeze(scopesOf(payload, { permissions })),
  });
}

export interface Introspector {
  introspect(token: string, hash: string): Promise<AuthResult>;
}

/** How long an inactive verdict is remembered, and how many. */
const INACTIVE_TTL_MS = 60_000;
const INACTIVE_MAX_ENTRIES = 10_000;

export interface IntrospectorOptions {
  readonly permissions: boolean;
  readonly now: () => number;
  /** Told of every answer, as `idp.introspection.completed` or `idp.introspection.failed`. */
  readonly emit?: Emit<IdpEvent> | undefined;
}

export function createIntrospector(
  target: IntrospectionTarget,
  policy: () => JwtPolicy,
  options: IntrospectorOptions,
): Introspector {
  const clientAuth = createClientAuth(target.client);
  const inFlight = new Map<string, Promise<AuthResult>>();
  const inactive = createTokenCache<true>(INACTIVE_MAX_ENTRIES);
  const url = publicUrl(target.endpoint) ?? '';
  const notActive = () =>
    refuse(new InvalidTokenError('the token is not active', { realm: policy().realm }), {
      reason: 'inactive',
      hint: 'the IdP said so at most 60 s ago (inactive tokens are remembered that long)',
    });

  /** One call to the IdP, in its span: the verdict, or `invalid_token`, or a 503 naming the IdP. */
  function call(token: string, hash: string): Promise<AuthResult> {
    return inSpan('portcullis.idp.introspection', {}, async (span) => {
      try {
        const response = await introspectionRequest(target, clientAuth, token);
        const result = await processIntrospection(target, response, token, policy(), options);
        span?.setAttribute('portcullis.introspection.active', true);
        return result;
      } catch (err) {
        if (err instanceof InactiveTokenError) {
          const at = options.now();
          inactive.set(hash, hash, true, at + INACTIVE_TTL_MS, undefined, at);
          span?.setAttribute('portcullis.introspection.active', false);
        }
        if (err instanceof InvalidTokenError) throw err;
        throw await idpError(err, introspectionCall(target));
      }
    });
  }

  return {
    introspect(token, hash) {
      const started = performance.now();
      const completed = (active: boolean, cached: boolean) =>
        options.emit?.({
          type: 'idp.introspection.completed',
          url,
          active,
          cached,
          durationMs: performance.now() - started,
        });
      if (inactive.get(hash, options.now()) === true) {
        completed(false, true);
        return Promise.reject(notActive());
      }
      let pending = inFlight.get(hash);
      if (pending === undefined) {
        pending = call(token, hash)
          .then(
            (result) => {
              completed(true, false);
              return result;
            },
            (err: unknown) => {
              if (err instanceof InactiveTokenError) completed(false, false);
              else if (!(err instanceof InvalidTokenError)) {
                const code = (err as PortcullisError).code;
                options.emit?.({
                  type: 'idp.introspection.failed',
                  url,
                  code,
                  durationMs: performance.now() - started,
                });
              }
              throw err;
            },
          )
          .finally(() => inFlight.delete(hash));
        inFlight.set(hash, pending);
      }
      return pending;
    },
  };
}
