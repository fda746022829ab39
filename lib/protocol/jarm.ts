/**
 * JARM (JWT Secured Authorization Response Mode for OAuth 2.0): with `response_mode` `jwt`,
 * `query.jwt` or `form_post.jwt` the IdP sends the whole authorization response as one JWT, the
 * `response` parameter, signed with its keys. oauth4webapi's `validateJwtAuthResponse` checks it, in
 * this order, before any parameter in it (`state`, `code`, `error`) is read:
 *
 *   alg        one the IdP advertises for JWT responses (RS256 when it advertises none); asymmetric
 *              only, never `none` or HMAC, whatever it advertises
 *   claims     `iss` is the IdP's issuer, `aud` is this client, `exp` present and not past
 *              (clockTolerance)
 *   signature  with the IdP's JWKS (the key its `kid` and `alg` name)
 *
 * Its parameters are then those of a plain response: `iss` (RFC 9207) and `state` checked as always,
 * and an IdP `error` inside a valid JWT is handled as a plain error response.
 */
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../errors.js';
import { type HttpSettings, isNetworkError, requestOptions, safeCause } from './http.js';
import { idpError, isResponse } from './idp-error.js';
import { jwksCall } from './jwks.js';

/** The JARM response modes that reach a server: `fragment.jwt` never does. */
export const JWT_RESPONSE_MODES = ['jwt', 'query.jwt', 'form_post.jwt'] as const;

export function isJwtResponseMode(mode: unknown): boolean {
  return (JWT_RESPONSE_MODES as readonly unknown[]).includes(mode);
}

/**
 * A JWT response mode the IdP's metadata does not list: said at the login, not found at the callback.
 * An IdP that lists no `response_modes_supported` is taken at its word when it answers.
 */
export function checkJwtResponseMode(as: oauth.AuthorizationServer, mode: string | null): void {
  if (mode === null || !isJwtResponseMode(mode)) return;
  const listed = as.response_modes_supported;
  if (!Array.isArray(listed) || listed.includes(mode)) return;
  throw new PortcullisError(
    'ERR_IDP_INCOMPATIBLE',
    `response_mode "${mode}" (JARM) was asked for, but the IdP ${as.issuer} offers only ${listed.join(', ')}: enable JWT responses at the IdP, or set "authorizationParams.response_mode" to one of those`,
    { status: 500 },
  );
}

const RETRY = 'The user starts again from the login page';

/** What the refused JWT response broke, as a sentence an operator can act on. */
function refusal(err: unknown, as: oauth.AuthorizationServer, clientId: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const claim = (err as { cause?: { claim?: unknown } }).cause?.claim;
  if (err instanceof oauth.OperationProcessingError) {
    if (err.code === oauth.JWT_CLAIM_COMPARISON && claim === 'iss') {
      return `its "iss" is not the IdP's issuer ${as.issuer}: an answer from another IdP (a mix-up) or a forged one. ${RETRY}`;
    }
    if (err.code === oauth.JWT_CLAIM_COMPARISON && claim === 'aud') {
      return `its "aud" is not this client ("${clientId}"): the answer was issued to another client. ${RETRY}`;
    }
    if (err.code === oauth.JWT_TIMESTAMP_CHECK) {
      const what = claim === 'exp' ? 'it has expired' : 'it is not valid yet';
      return `its "${String(claim)}" says ${what}. ${RETRY}; if it keeps happening, check the clocks of this server and the IdP ("clockTolerance")`;
    }
    const missing = /^JWT "(\w+)" .* claim missing$/.exec(message)?.[1];
    if (missing !== undefined) return `it has no "${missing}" claim. ${RETRY}`;
    if (message === 'Invalid JWT') return `the "response" parameter is not a JWT. ${RETRY}`;
    if (/signature verification failed/.test(message)) {
      return `its signature does not verify with the IdP's keys (${as.jwks_uri}): it was forged or altered. ${RETRY}`;
    }
    if (/"alg"/.test(message)) {
      const advertised = as.authorization_signing_alg_values_supported;
      return `its "alg" is not one the IdP advertises for JWT responses (${advertised?.join(', ') ?? 'RS256 by default'}). ${RETRY}`;
    }
    if (err.code === oauth.KEY_SELECTION) {
      return `no key of the IdP's JWKS (${as.jwks_uri}) matches its "kid" and "alg". ${RETRY}; if it keeps happening, the IdP signs with a key it does not publish`;
    }
  }
  if (err instanceof oauth.UnsupportedOperationError && /JWE/.test(message)) {
    return 'it is encrypted (JWE), which portcullis does not decrypt: register the client at the IdP without authorization_encrypted_response_alg';
  }
  if (err instanceof oauth.UnsupportedOperationError && /"alg"/.test(message)) {
    return `its "alg" is not an asymmetric JWS algorithm (never "none" or HMAC, whatever the IdP advertises). ${RETRY}`;
  }
  return `${message.replace(/^"parameters" /, 'the callback ')}. ${RETRY}`;
}

/**
 * Check a JWT response (the callback's `response` parameter) and return the parameters it holds.
 * `jwksCache` keeps the IdP's keys between callbacks (oauth4webapi's cache, refetched on an unknown `kid`).
 */
export async function validateJarmResponse(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  callback: URLSearchParams,
  http: HttpSettings,
  jwksCache: oauth.JWKSCacheInput,
): Promise<URLSearchParams> {
  try {
    // `state` is checked later, against the pending login it names; nothing else reads it before.
    return await oauth.validateJwtAuthResponse(as, client, callback, oauth.skipStateCheck, {
      ...requestOptions(http, as.jwks_uri),
      [oauth.jwksCache]: jwksCache,
    });
  } catch (err) {
    // Valid, and the IdP's answer is an error: its parameters go on like a plain error response's.
    if (err instanceof oauth.AuthorizationResponseError) return err.cause;
    // The IdP's JWKS could not be fetched: a 503 about the IdP, not a refusal of the answer.
    if (isNetworkError(err) || isResponse((err as { cause?: unknown }).cause)) {
      throw await idpError(err, jwksCall(as.jwks_uri === undefined ? undefined : new URL(as.jwks_uri)));
    }
    throw new PortcullisError(
      'ERR_JARM_INVALID',
      `the IdP's JWT response (JARM) was refused before any of its parameters was used: ${refusal(err, as, client.client_id)}`,
      { status: 400, cause: safeCause(err) },
    );
  }
}
