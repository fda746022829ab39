/**
 * Opaque access tokens: RFC 7662 token introspection, as a request/process pair. The verdict gets
 * the same checks as a JWT's claims (active, `iss`, `aud`, times) and the same cache; concurrent
 * requests carrying one token share one call to the IdP. An inactive token is remembered too (a
 * revoked, expired or made-up token never becomes active again), so that a client retrying a dead
 * token, or a flood of junk ones repeated, does not turn every request into a call to the IdP.
 */
import type { JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import { InvalidTokenError } from '../errors.js';
import type { AuthResult } from './auth-result.js';
import { refuse, shown } from './bearer-refusal.js';
import type { ClientAuthConfig } from './client-auth.js';
import { createClientAuth } from './client-auth.js';
import { type HttpSettings, requestOptions } from './http.js';
import { type IdpCall, idpError } from './idp-error.js';
import { checkAudience, checkIssuer, checkTimes, type JwtPolicy } from './jwt-checks.js';
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

export function createIntrospector(
  target: IntrospectionTarget,
  policy: () => JwtPolicy,
  options: { permissions: boolean; now: () => number },
): Introspector {
  const clientAuth = createClientAuth(target.client);
  const inFlight = new Map<string, Promise<AuthResult>>();
  const inactive = createTokenCache<true>(INACTIVE_MAX_ENTRIES);
  const notActive = () =>
    refuse(new InvalidTokenError('the token is not active', { realm: policy().realm }), {
      reason: 'inactive',
      hint: 'the IdP said so at most 60 s ago (inactive tokens are remembered that long)',
    });
  return {
    introspect(token, hash) {
      if (inactive.get(hash, options.now()) === true) return Promise.reject(notActive());
      let pending = inFlight.get(hash);
      if (pending === undefined) {
        pending = introspectionRequest(target, clientAuth, token)
          .then((response) => processIntrospection(target, response, token, policy(), options))
          .catch((err: unknown) => {
            if (err instanceof InactiveTokenError) {
              inactive.set(hash, true, options.now() + INACTIVE_TTL_MS, undefined);
            }
            throw err;
          })
          .catch(async (err: unknown) => {
            if (err instanceof InvalidTokenError) throw err;
            throw await idpError(err, introspectionCall(target));
          })
          .finally(() => inFlight.delete(hash));
        inFlight.set(hash, pending);
      }
      return pending;
    },
  };
}
