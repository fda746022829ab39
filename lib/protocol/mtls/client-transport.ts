/**
 * How a client that uses mutual TLS (RFC 8705) reaches the IdP: its calls present its certificate (an
 * https Agent of its own behind oauth4webapi's `customFetch`), and go to the IdP's
 * `mtls_endpoint_aliases` where it has them (§5): an IdP may serve its mTLS endpoints on another host
 * that asks every client for a certificate, and keep the plain ones for browsers and other clients.
 */
import type { Agent } from 'node:https';
import type * as oauth from 'oauth4webapi';
import type { ClientAuthConfig } from '../client-auth.js';
import type { FetchLike, HttpSettings } from '../http.js';
import { assertCallableUrl } from '../url-policy.js';
import { isTlsMethod } from './client-certificate.js';
import { certificateAgent, httpsFetch } from './https-fetch.js';

/** The endpoints RFC 8705 §5 lets an IdP alias, as oauth4webapi resolves them. */
export type AliasedEndpoint =
  | 'token_endpoint'
  | 'pushed_authorization_request_endpoint'
  | 'userinfo_endpoint'
  | 'introspection_endpoint'
  | 'revocation_endpoint';

/** A client presents a certificate: its own, or one its custom `fetch` presents for a TLS method. */
export function usesMtls(client: ClientAuthConfig): boolean {
  return client.certificate !== undefined || isTlsMethod(client.method);
}

/** oauth4webapi's client metadata, with `use_mtls_endpoint_aliases` for a client that uses mTLS. */
export function mtlsClient(client: ClientAuthConfig, metadata: oauth.Client): oauth.Client {
  return usesMtls(client) ? { ...metadata, use_mtls_endpoint_aliases: true } : metadata;
}

/**
 * The URL a call to `endpoint` goes to: the IdP's alias for a client that uses mTLS, checked against
 * the https policy like every URL learnt from discovery; else the endpoint itself.
 */
export function endpointUrl(
  as: oauth.AuthorizationServer,
  endpoint: AliasedEndpoint,
  client: ClientAuthConfig,
  allowInsecureHttp: boolean,
): string | undefined {
  const alias = usesMtls(client) ? as.mtls_endpoint_aliases?.[endpoint] : undefined;
  if (alias === undefined) return as[endpoint];
  assertCallableUrl(alias, `mtls_endpoint_aliases.${endpoint}`, allowInsecureHttp);
  return alias;
}

/** A client's HTTP settings, and what holds its certificate (for calls to other servers, and to close). */
export interface ClientTransport {
  readonly http: HttpSettings;
  readonly agent: Agent | undefined;
  /** The fetch that presents the certificate, undecorated: for calls that are not to the IdP. */
  readonly fetch: FetchLike | undefined;
}

/**
 * The settings a client calls with: the product's, or with a certificate, the same over an Agent that
 * presents it. `wrap` decorates the fetch (tracing) as the product decorates its own.
 */
export function clientTransport(
  http: HttpSettings,
  client: ClientAuthConfig,
  wrap: (fetch: FetchLike) => FetchLike = (fetch) => fetch,
): ClientTransport {
  if (client.certificate === undefined) return { http, agent: undefined, fetch: undefined };
  const agent = certificateAgent(client.certificate);
  const fetch = httpsFetch(agent);
  return { http: { ...http, fetch: wrap(fetch) }, agent, fetch };
}
