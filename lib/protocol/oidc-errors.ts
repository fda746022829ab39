/**
 * The sign-in steps' failures, mapped to portcullis errors: a refused or forged authorization
 * response (OpenID Connect Core §3.1.2.6, RFC 9207), and a failed code exchange or refresh. Kept out
 * of the sign-in client (`oidc-client/`) so that its modules read as the protocol steps alone.
 */
import * as oauth from 'oauth4webapi';
import { OAuthResponseError, PortcullisError } from '../errors.js';
import { shown } from './bearer-refusal.js';
import { ruleReference } from './fapi2.js';
import { safeCause } from './http.js';
import { type IdpCall, type IdpGrant, idpError, isResponse } from './idp-error.js';
import { claimCheckRefusal, withRefusal } from './oidc-refusal.js';

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
    // Only the issuers: the cause's `parameters` hold the code and state too.
    const cause = err.cause as { expected?: unknown; parameters?: URLSearchParams } | undefined;
    const error = new PortcullisError(
      'ERR_ISSUER_MISMATCH',
      /missing/.test(err.message)
        ? `the callback has no "iss" parameter (RFC 9207): required when the IdP advertises "authorization_response_iss_parameter_supported", and always ${ruleReference('fapi2-iss')}`
        : 'the callback\'s "iss" parameter does not match the issuer (RFC 9207)',
      {
        status: 400,
        cause: safeCause(err),
      },
    );
    return withRefusal(error, {
      reason: 'iss',
      expected: shown(cause?.expected),
      received: shown(cause?.parameters?.get?.('iss')),
    });
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
    const error = new PortcullisError('ERR_ID_TOKEN_INVALID', `code exchange: ${err.message}`, {
      status: 400,
      cause: safeCause(err),
    });
    return Promise.resolve(withRefusal(error, claimCheckRefusal(err) ?? { reason: 'malformed' }));
  }
  return idpError(err, { ...call, grant, ...(exchange ? {} : { code: 'ERR_REFRESH_FAILED', status: 401 }) });
}

/** Names the configured provider an issuer is, other than the one a login was started with. */
export type IssuerOwner = (issuer: string) => string | undefined;

/**
 * A mix-up (RFC 9700 §4.4): the callback's `iss` parameter (RFC 9207) or its ID token's `iss` is
 * another configured provider's issuer. `undefined` when `iss` is no configured provider's: the
 * error stays what it was (a foreign or forged issuer is not a mix-up between our providers).
 */
export function mixUpError(
  err: unknown,
  iss: unknown,
  owner: IssuerOwner | undefined,
  where: 'parameter' | 'ID token',
): PortcullisError | undefined {
  if (typeof iss !== 'string' || owner === undefined) return undefined;
  const other = owner(iss);
  if (other === undefined) return undefined;
  const what = where === 'parameter' ? 'the callback\'s "iss" parameter' : 'the ID token\'s "iss"';
  const error = new PortcullisError(
    'ERR_ISSUER_MISMATCH',
    `${what} is the issuer of provider "${other}", not of the provider this login was started with: a mix-up (RFC 9700 §4.4), refused`,
    { status: 400, cause: safeCause(err) },
  );
  return withRefusal(error, { reason: 'mix_up', received: shown(iss) });
}

/** The `iss` of an ID token that oauth4webapi refused for its `iss`, if that was the reason. */
export function refusedIdTokenIssuer(err: unknown): unknown {
  if (!(err instanceof oauth.OperationProcessingError)) return undefined;
  const cause = err.cause as { claim?: unknown; claims?: { iss?: unknown } } | undefined;
  return cause?.claim === 'iss' ? cause.claims?.iss : undefined;
}
