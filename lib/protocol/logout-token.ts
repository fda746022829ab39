/**
 * OpenID Connect Back-Channel Logout 1.0 §2.4 and §2.6: a logout token is checked like an ID token
 * (signature against the IdP's keys, asymmetric algorithms only, `iss`, `aud`, `iat`) plus its own
 * rules: an `events` claim holding the back-channel logout member, `sid` or `sub`, a `jti`, and no
 * `nonce` (so that an ID token can never be replayed as a logout token).
 */
import * as jose from 'jose';
import { PortcullisError } from '../errors.js';
import type { KeySet } from './id-token.js';
import { joseRefusal, type SigninRefusal, type SigninRefusalReason, withRefusal } from './oidc-refusal.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutTokenClaims {
  sid: string | undefined;
  sub: string | undefined;
  jti: string;
  exp: number | undefined;
}

function invalid(message: string, refusal: SigninRefusal | SigninRefusalReason): PortcullisError {
  const error = new PortcullisError('ERR_BAD_REQUEST', `logout token: ${message}`, { status: 400 });
  return withRefusal(error, typeof refusal === 'string' ? { reason: refusal } : refusal);
}

export async function validateLogoutToken(
  token: string,
  keys: KeySet,
  {
    issuer,
    audience,
    algorithms,
    clockTolerance,
  }: { issuer: string; audience: string; algorithms: string[]; clockTolerance: number },
): Promise<LogoutTokenClaims> {
  let payload: jose.JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(token, keys, {
      issuer,
      audience,
      algorithms,
      clockTolerance,
      requiredClaims: ['iat'],
    }));
  } catch (err) {
    const refusal = joseRefusal(err, token, { issuer, audience, algorithms });
    if (err instanceof jose.errors.JOSEError) throw invalid(err.message, refusal);
    throw invalid('it could not be verified', refusal);
  }
  const events = payload['events'];
  if (
    typeof events !== 'object' ||
    events === null ||
    Array.isArray(events) ||
    typeof (events as Record<string, unknown>)[EVENT] !== 'object'
  ) {
    throw invalid('the "events" claim has no back-channel logout event', 'events');
  }
  if ('nonce' in payload) throw invalid('a "nonce" claim is not allowed', 'nonce');
  const sid = typeof payload['sid'] === 'string' ? payload['sid'] : undefined;
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  if (sid === undefined && sub === undefined) throw invalid('it names neither "sid" nor "sub"', 'sub');
  if (typeof payload.jti !== 'string' || payload.jti === '') throw invalid('it has no "jti"', 'jti');
  return { sid, sub, jti: payload.jti, exp: payload.exp };
}
