/**
 * The callback's authorization response (state, RFC 9207 `iss`, error) and the exchange of its code
 * (RFC 6749 §4.1.3, with PKCE) for tokens whose ID token is validated.
 */
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../../errors.js';
import { checkBound } from '../dpop/client-request.js';
import { authResponseError, type IssuerOwner, mixUpError, refusedIdTokenIssuer } from '../oidc-errors.js';
import { callbackTenantMetadata } from '../tenant-metadata.js';
import type { IdpConnection } from './idp-connection.js';
import { requestTokens, type ValidatedTokens, validateIdToken } from './token-grant.js';

export interface ExpectedCallback {
  state: string;
  nonce: string;
  codeVerifier: string;
  maxAge?: number | undefined;
  /** The login's DPoP key (RFC 9449): the code is exchanged with a proof, the tokens come bound. */
  dpop?: oauth.DPoPHandle | undefined;
  /** With several providers: which other provider an issuer is, to call a mix-up one (RFC 9700 §4.4). */
  issuerOwner?: IssuerOwner | undefined;
}

/**
 * Validate the authorization response and exchange the code. An `iss` (parameter or ID token) that is
 * another provider's is a mix-up: `ERR_ISSUER_MISMATCH`.
 */
export async function exchangeCode(
  idp: IdpConnection,
  callback: URLSearchParams,
  expected: ExpectedCallback,
): Promise<ValidatedTokens> {
  const as = await idp.metadata();
  const named = callbackTenantMetadata(as, idp.options.allowedTenants, callback.get('iss'));
  let params: URLSearchParams;
  try {
    const checked = idp.options.profile?.authResponseMetadata(named) ?? named;
    params = oauth.validateAuthResponse(checked, idp.client(), callback, expected.state);
  } catch (err) {
    throw mixUpError(err, callback.get('iss'), expected.issuerOwner, 'parameter') ?? authResponseError(err);
  }
  const { dpop } = expected;
  const { response, checked } = await requestTokens(idp, as, {
    grant: 'authorization_code',
    step: 'code exchange',
    dpop,
    send: (client, auth, options) =>
      oauth.authorizationCodeGrantRequest(
        as,
        client,
        auth,
        params,
        idp.options.redirectUri,
        expected.codeVerifier,
        options,
      ),
    process: (tenant, client, answer) =>
      oauth.processAuthorizationCodeResponse(tenant, client, answer, {
        expectedNonce: expected.nonce,
        maxAge: expected.maxAge ?? oauth.skipAuthTimeCheck,
        requireIdToken: true,
      }),
    refusal: (err) => mixUpError(err, refusedIdTokenIssuer(err), expected.issuerOwner, 'ID token'),
  });
  if (named !== as && checked.issuer !== named.issuer) {
    throw new PortcullisError(
      'ERR_ISSUER_MISMATCH',
      'the ID token is from another tenant than the callback\'s "iss" parameter names',
      { status: 400 },
    );
  }
  checkBound(response, dpop);
  return validateIdToken(idp, checked, response);
}
