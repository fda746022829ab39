/**
 * The sign-in steps' failures, mapped to portcullis errors: a refused or forged authorization
 * response (OpenID Connect Core §3.1.2.6, RFC 9207), and a failed code exchange or refresh. Kept out
 * of `oidc-client.ts` so that the client reads as the protocol steps alone.
 */
import * as oauth from 'oauth4webapi';
import { OAuthResponseError, PortcullisError } from '../errors.js';
import { safeCause } from './http.js';
import { type IdpCall, type IdpGrant, idpError, isResponse } from './idp-error.js';

/** The callback's parameters failed a check (`state`, `iss`), or the IdP answered an error. */
export function authResponseError(err: unknown): PortcullisError {
  if (err instanceof oauth.AuthorizationResponseError) {
    return new OAuthResponseError(
      'ERR_AUTHORIZATION_RESPONSE',
      `the IdP answered "${err.error}"`,
      { error: err.error, error_description: err.error_description },
      { status: err.error === 'access_denied' ? 403 : 400 },
    );
  }
  if (err instanceof oauth.OperationProcessingError && /"iss"/.test(err.message)) {
    return new PortcullisError(
      'ERR_ISSUER_MISMATCH',
      'the callback\'s "iss" parameter does not match the issuer (RFC 9207)',
      {
        status: 400,
        cause: safeCause(err),
      },
    );
  }
  if (err instanceof oauth.OperationProcessingError && /"state"/.test(err.message)) {
    return new PortcullisError('ERR_STATE_MISMATCH', 'the callback\'s "state" does not match', {
      status: 400,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new PortcullisError('ERR_CALLBACK_INVALID', `callback: ${message}`, {
    status: 400,
    cause: safeCause(err),
  });
}

/**
 * A failed code exchange or refresh. oauth4webapi's checks of the ID token's claims (`nonce`, `aud`,
 * …) fail without a response: those are `ERR_ID_TOKEN_INVALID` (400). Whatever the token endpoint
 * answered is an error about the IdP that names its URL and answer; a refresh's is `ERR_REFRESH_FAILED`
 * (401) unless the IdP said why.
 */
export function tokenEndpointError(err: unknown, call: IdpCall, grant: IdpGrant): Promise<PortcullisError> {
  const exchange = grant === 'authorization_code';
  if (exchange && err instanceof oauth.OperationProcessingError && !isResponse(err.cause)) {
    return Promise.resolve(
      new PortcullisError('ERR_ID_TOKEN_INVALID', `code exchange: ${err.message}`, {
        status: 400,
        cause: safeCause(err),
      }),
    );
  }
  return idpError(err, { ...call, grant, ...(exchange ? {} : { code: 'ERR_REFRESH_FAILED', status: 401 }) });
}
