/**
 * Opaque access tokens: RFC 7662 token introspection, as a request/process pair. The verdict gets
 * the same checks as a JWT's claims (active, `iss`, `aud`, times) and the same cache; concurrent
 * requests carrying one token share one call to the IdP.
 */
import type { JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import { InvalidTokenError } from '../errors.js';
import type { AuthResult } from './auth-result.js';
import type { ClientAuthConfig } from './client-auth.js';
import { createClientAuth } from './client-auth.js';
import { type HttpSettings, requestOptions, toPortcullisError } from './http.js';
import { checkAudience, checkIssuer, checkTimes, type JwtPolicy } from './jwt-checks.js';
import { scopesOf } from './scopes.js';

export interface IntrospectionTarget {
  readonly endpoint: URL;
  readonly issuer: string;
  readonly client: ClientAuthConfig;
  readonly http: HttpSettings;
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
  if (body.active !== true) throw new InvalidTokenError('the token is not active', { realm });
  if (body.token_type !== undefined && /refresh/i.test(body.token_type)) {
    throw new InvalidTokenError('the token is not an access token', { realm });
  }
  const payload = { ...body } as JWTPayload;
  if (payload.iss !== undefined) checkIssuer(payload, policy);
  checkAudience(payload, policy);
  if (payload.exp !== undefined) checkTimes(payload, policy, Math.floor(now() / 1000));
  return Object.freeze({
    token,
    header: Object.freeze({}),
    payload: Object.freeze(payload),
    scopes: Object.freeze(scopesOf(payload, { permissions })),
  });
}

export interface Introspector {
  introspect(token: string, hash: string): Promise<AuthResult>;
}

export function createIntrospector(
  target: IntrospectionTarget,
  policy: () => JwtPolicy,
  options: { permissions: boolean; now: () => number },
): Introspector {
  const clientAuth = createClientAuth(target.client);
  const inFlight = new Map<string, Promise<AuthResult>>();
  return {
    introspect(token, hash) {
      let pending = inFlight.get(hash);
      if (pending === undefined) {
        pending = introspectionRequest(target, clientAuth, token)
          .catch((err: unknown) => {
            throw toPortcullisError(err, 'token introspection failed', 'ERR_IDP_UNAVAILABLE', 503);
          })
          .then((response) => processIntrospection(target, response, token, policy(), options))
          .catch((err: unknown) => {
            if (err instanceof InvalidTokenError) throw err;
            throw toPortcullisError(err, 'token introspection failed', 'ERR_IDP_UNAVAILABLE', 503);
          })
          .finally(() => inFlight.delete(hash));
        inFlight.set(hash, pending);
      }
      return pending;
    },
  };
}
