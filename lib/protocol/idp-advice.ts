/**
 * What an operator should do about a failed call to the IdP, in words: which option to check for a
 * 404, what a 403 without JSON usually means, and for each OAuth error (RFC 6749 §5.2, RFC 6750 §3.1,
 * RFC 8707, RFC 9449) the likely cause. Kept apart from the translation of errors (`idp-error.ts`) so
 * that the advice can be read, and reviewed, as one table.
 */
import type { ClientAuthMethod } from './client-auth.js';

/** The IdP's endpoints portcullis calls. */
export type IdpEndpoint =
  | 'discovery'
  | 'jwks'
  | 'token'
  | 'par'
  | 'userinfo'
  | 'introspection'
  | 'revocation';

/** The grant a token request used: `invalid_grant` and `unauthorized_client` mean different things. */
export type IdpGrant = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'token_exchange';

/** The client that called, and how it authenticated: names `invalid_client`'s suspects. */
export interface IdpClient {
  readonly id: string;
  readonly method: ClientAuthMethod;
}

/** How each endpoint is named in messages, and where its URL comes from by default. */
const ENDPOINTS: Readonly<Record<IdpEndpoint, { readonly name: string; readonly source: string }>> = {
  discovery: { name: 'the discovery document', source: 'issuerBaseURL' },
  jwks: { name: 'the JWKS endpoint', source: "the jwks_uri of the IdP's discovery document" },
  token: { name: 'the token endpoint', source: "the token_endpoint of the IdP's discovery document" },
  par: {
    name: 'the pushed authorization request endpoint',
    source: "the pushed_authorization_request_endpoint of the IdP's discovery document",
  },
  userinfo: {
    name: 'the userinfo endpoint',
    source: "the userinfo_endpoint of the IdP's discovery document",
  },
  introspection: {
    name: 'the introspection endpoint',
    source: 'the introspection_endpoint of the IdP\'s discovery document (or "introspection.endpoint")',
  },
  revocation: {
    name: 'the revocation endpoint',
    source: "the revocation_endpoint of the IdP's discovery document",
  },
};

export function endpointName(endpoint: IdpEndpoint): string {
  return ENDPOINTS[endpoint].name;
}

export function defaultSource(endpoint: IdpEndpoint): string {
  return ENDPOINTS[endpoint].source;
}

/** RFC 6749 §2.3.1's form-encoding of Basic credentials, and the IdPs that never undo it. */
const BASIC_ENCODING =
  'with client_secret_basic the ID and secret are form-encoded in the Basic header (RFC 6749 §2.3.1: ' +
  '"-" becomes "%2D", "." becomes "%2E"), which some IdPs never decode; ' +
  "clientAuthMethod: 'client_secret_post' avoids it";

/** `invalid_client`: the client, the method used, and what to compare with the IdP's registration. */
export function invalidClientAdvice(client: IdpClient | undefined): string {
  if (client === undefined) return 'check the client ID and credentials registered at the IdP';
  const who = `the IdP did not accept client "${client.id}" authenticating with ${client.method}`;
  if (client.method === 'private_key_jwt') {
    return (
      `${who}: check the client ID, that the IdP has the public key of clientAssertionSigningKey ` +
      "(its kid and alg) for this client, that the client is registered for private_key_jwt, and this server's clock"
    );
  }
  if (client.method === 'tls_client_auth' || client.method === 'self_signed_tls_client_auth') {
    const registered =
      client.method === 'tls_client_auth'
        ? "that the IdP trusts the certificate's CA and has its subject (tls_client_auth_subject_dn, or a SAN) registered for this client"
        : 'that the IdP has the certificate registered for this client (x5c in its jwks)';
    return (
      `${who}: check the client ID, ${registered}, and that the IdP saw the certificate: ` +
      'its mTLS endpoints (mtls_endpoint_aliases) or its TLS terminator must ask for it and pass it on (RFC 8705)'
    );
  }
  const check = `${who}: check the client ID and secret registered at the IdP, and that the client is registered for ${client.method}`;
  return client.method === 'client_secret_basic' ? `${check}; ${BASIC_ENCODING}` : check;
}

function grantName(grant: IdpGrant | undefined): string {
  return grant === undefined ? 'this' : `the ${grant}`;
}

/** What to do about an OAuth `error` the IdP answered. */
export function oauthErrorAdvice(
  error: string,
  { client, grant }: { client?: IdpClient | undefined; grant?: IdpGrant | undefined },
): string {
  switch (error) {
    case 'invalid_client':
      return invalidClientAdvice(client);
    case 'invalid_grant':
      if (grant === 'authorization_code')
        return 'the code expired or was already used, or its PKCE verifier, redirect_uri or DPoP key differ: sign in again';
      if (grant === 'refresh_token')
        return 'the refresh token expired, was revoked or was already used: the user must sign in again';
      if (grant === 'token_exchange')
        return 'the IdP refused the subject token (expired, revoked, or not meant for this client)';
      return 'the IdP refused the grant: see its error_description';
    case 'unauthorized_client':
      return `the IdP does not allow ${grantName(grant)} grant to client${client === undefined ? '' : ` "${client.id}"`}: enable it in the client's registration`;
    case 'unsupported_grant_type':
      return `the IdP does not support ${grantName(grant)} grant`;
    case 'invalid_scope':
      return 'check the scope asked for against the scopes the IdP allows this client';
    case 'invalid_target':
      return 'check audience and resource against the resources the IdP knows for this client (RFC 8707)';
    case 'invalid_request':
      return "the IdP refused the request's parameters: its error_description says which";
    case 'invalid_token':
      return 'the IdP refused the access token (expired, revoked, or issued for another resource: RFC 8707): refresh it or sign in again';
    case 'insufficient_scope':
      return 'the access token lacks the scope this endpoint needs (openid for userinfo)';
    case 'unsupported_token_type':
      return 'the IdP does not revoke this type of token (RFC 7009 §2.2.1): it stays valid until it expires';
    case 'invalid_dpop_proof':
      return "the IdP refused the DPoP proof: check this server's clock and the DPoP key";
    default:
      return "see the IdP's error_description and its logs";
  }
}

/** What to do when an endpoint answered a status that is not an OAuth answer (no JSON `error`). */
export function statusAdvice(endpoint: IdpEndpoint, status: number, source: string): string {
  if (endpoint === 'discovery' && status === 404) {
    return `check ${source}: it must be the issuer's URL, under which the IdP publishes /.well-known/openid-configuration`;
  }
  if (status >= 300 && status < 400) {
    return `redirects are not followed: check ${source} (https or http, a trailing slash, the path)`;
  }
  if (status === 401 || status === 403) {
    return (
      'this is no OAuth error from the IdP, but a refusal by something in front of it (a proxy, WAF or ' +
      `firewall) or the wrong URL: check ${source}, and that this server may call it`
    );
  }
  if (status === 404 || status === 405) return `check ${source}`;
  return `the IdP answered no usable document: check ${source}`;
}
