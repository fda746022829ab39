/**
 * A request to the IdP's token endpoint for one of auth()'s grants (the code exchange, RFC 6749
 * §4.1.3, and the refresh, §6), and the check of the ID token in its answer. Both grants send and
 * process the same way: authenticated as this client, with a DPoP proof and one retry on
 * `use_dpop_nonce`, against the tenant's metadata for a templated issuer, told as an `idp.token.…` event.
 */
import type * as oauth from 'oauth4webapi';
import { PortcullisError } from '../../errors.js';
import type { IssuerMetadata } from '../discovery.js';
import { withDpop, withNonceRetry } from '../dpop/client-request.js';
import { requestOptions } from '../http.js';
import { checkAtHash, verifyIdTokenSignature } from '../id-token.js';
import type { SigninGrant } from '../observability/events.js';
import { tokenRequest } from '../observability/token-events.js';
import { tokenEndpointError } from '../oidc-errors.js';
import { responseTenantMetadata } from '../tenant-metadata.js';
import type { IdpConnection } from './idp-connection.js';

export interface ValidatedTokens {
  response: oauth.TokenEndpointResponse;
  idToken: string;
  claims: Record<string, unknown>;
}

/** What sets one grant apart from the other. */
export interface TokenGrant {
  grant: SigninGrant;
  /** The step as error messages name it ("code exchange"). */
  step: string;
  dpop: oauth.DPoPHandle | undefined;
  /** Send the request with this client's authentication and oauth4webapi's options (URL policy, DPoP). */
  send(
    client: oauth.Client,
    auth: oauth.ClientAuth,
    options: oauth.TokenEndpointRequestOptions,
  ): Promise<Response>;
  /** Process the answer against `checked`: the metadata of the tenant that answered. */
  process(
    checked: IssuerMetadata,
    client: oauth.Client,
    answer: Response,
  ): Promise<oauth.TokenEndpointResponse>;
  /** A refusal that comes before the token endpoint's own error (a mix-up), if there is one. */
  refusal?: ((err: unknown) => PortcullisError | undefined) | undefined;
}

/** Run `grant` at the IdP's token endpoint; returns its answer and the metadata it was checked against. */
export async function requestTokens(
  idp: IdpConnection,
  as: IssuerMetadata,
  grant: TokenGrant,
): Promise<{ response: oauth.TokenEndpointResponse; checked: IssuerMetadata }> {
  const client = idp.client();
  const url = idp.url(as, 'token_endpoint');
  let checked = as;
  const response = await tokenRequest(
    idp.options.emit,
    grant.grant,
    url,
    () =>
      withNonceRetry(grant.dpop, async () => {
        const answer = await grant.send(
          client,
          await idp.clientAuth(),
          withDpop(requestOptions(idp.http, url), grant.dpop),
        );
        checked = await responseTenantMetadata(as, idp.options.allowedTenants, answer);
        return grant.process(checked, client, answer);
      }),
    async (err) =>
      grant.refusal?.(err) ??
      (await tokenEndpointError(err, idp.call(grant.step, 'token', url), grant.grant)),
  );
  return { response, checked };
}

/**
 * The ID token of a token response, checked beyond what oauth4webapi checks: its signature with the
 * IdP's keys and accepted algorithms, the profile's claims, and `at_hash`.
 */
export async function validateIdToken(
  idp: IdpConnection,
  as: IssuerMetadata,
  response: oauth.TokenEndpointResponse,
): Promise<ValidatedTokens> {
  const idToken = response.id_token;
  if (idToken === undefined) {
    throw new PortcullisError('ERR_ID_TOKEN_INVALID', 'the token response has no ID token', {
      status: 400,
    });
  }
  const { clientID } = idp.options.client;
  const { clockTolerance, profile } = idp.options;
  const payload = await verifyIdTokenSignature(idToken, idp.keySet(as), {
    algorithms: idp.idTokenAlgorithms(as),
    issuer: as.issuer,
    audience: clientID,
    clockTolerance,
  });
  profile?.checkIdTokenClaims(payload, clockTolerance);
  checkAtHash(idToken, payload, response.access_token);
  return { response, idToken, claims: { ...payload } };
}
