/**
 * What every step of the sign-in client shares: the IdP's metadata (discovery) and keys (JWKS), this
 * client's oauth4webapi metadata and authentication, where each of its calls goes, and how error
 * messages name a call. The steps (authorization-url.ts, code-exchange.ts, …) take it as their first
 * argument.
 */
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../../errors.js';
import { type ClientAuthConfig, createClientAuth } from '../client-auth.js';
import { createDiscovery, type Discovery, type IssuerMetadata } from '../discovery.js';
import type { DpopKeyRing } from '../dpop/session-keys.js';
import type { ClientProfile } from '../fapi2.js';
import type { HttpSettings } from '../http.js';
import { createIdTokenKeySet, idTokenAlgorithms, type KeySet } from '../id-token.js';
import type { IdpCall, IdpEndpoint } from '../idp-error.js';
import type { AllowedTenants } from '../issuer-template.js';
import { type AliasedEndpoint, clientTransport, endpointUrl, mtlsClient } from '../mtls/client-transport.js';
import type { Emit } from '../observability/emitter.js';
import type { IdpEvent } from '../observability/events.js';
import { tracedFetch } from '../observability/spans.js';
import type { RequestObjectSettings } from '../request-object.js';

export interface OidcClientOptions {
  issuer: URL;
  client: ClientAuthConfig;
  http: HttpSettings;
  redirectUri: string;
  clockTolerance: number;
  idTokenSigningAlg: string | undefined;
  /** For a templated issuer (`{tenantid}`): the tenants whose users may sign in. */
  allowedTenants?: AllowedTenants | undefined;
  /** DPoP handles shared by several clients (one `auth()`'s providers); a ring of its own by default. */
  dpopKeys?: DpopKeyRing | undefined;
  /** JAR (RFC 9101): when to sign the authorization request, and with which key. Never, by default. */
  requestObject?: RequestObjectSettings | undefined;
  /** Told of discovery, JWKS fetches and token requests (`idp.…` events). */
  emit?: Emit<IdpEvent> | undefined;
  /** A security profile's checks (FAPI 2.0): of the IdP at login, of its answers at the callback. */
  profile?: ClientProfile | undefined;
}

export class IdpConnection {
  readonly options: OidcClientOptions;
  /** The HTTP settings of calls to the IdP: each is an HTTP client span when OpenTelemetry is there. */
  readonly http: HttpSettings;
  /** This client's authentication at the IdP's endpoints (client-auth.ts). */
  readonly clientAuth: () => Promise<oauth.ClientAuth>;
  readonly #discovery: Discovery;
  #keys: { uri: string; set: KeySet } | undefined;

  constructor(options: OidcClientOptions) {
    this.options = options;
    // With a TLS client certificate (RFC 8705), every call presents it.
    const { http } = clientTransport(options.http, options.client);
    this.http = { ...http, fetch: tracedFetch(http.fetch) };
    this.#discovery = createDiscovery({ issuer: options.issuer, http: this.http, emit: options.emit });
    this.clientAuth = createClientAuth(options.client);
  }

  /** The IdP's metadata (cached); a 503 PortcullisError while the IdP cannot be read. */
  metadata(): Promise<IssuerMetadata> {
    return this.#discovery.get();
  }

  /** This client as oauth4webapi describes it. */
  client(): oauth.Client {
    const client: oauth.Client = {
      client_id: this.options.client.clientID,
      [oauth.clockTolerance]: this.options.clockTolerance,
    };
    // The accepted algorithms are enforced again, asymmetric only, by the signature check.
    if (this.options.idTokenSigningAlg !== undefined) {
      client.id_token_signed_response_alg = this.options.idTokenSigningAlg;
    }
    return mtlsClient(this.options.client, client);
  }

  /** Where a call to `endpoint` goes: the IdP's mTLS alias when this client uses mTLS (RFC 8705 §5). */
  url(as: IssuerMetadata, endpoint: AliasedEndpoint): string | undefined {
    return endpointUrl(as, endpoint, this.options.client, this.http.allowInsecureHttp);
  }

  /** The ID (and logout) token algorithms: the configured one or the IdP's, narrowed by the profile. */
  idTokenAlgorithms(as: IssuerMetadata): string[] {
    const algs = idTokenAlgorithms(this.options.idTokenSigningAlg, as.id_token_signing_alg_values_supported);
    return this.options.profile?.idTokenAlgorithms(algs) ?? algs;
  }

  /** The IdP's signing keys, at its current `jwks_uri` (a new set when the metadata names another). */
  keySet(as: IssuerMetadata): KeySet {
    if (as.jwks_uri === undefined) {
      throw new PortcullisError('ERR_DISCOVERY_FAILED', 'the IdP\'s metadata has no "jwks_uri"', {
        status: 503,
      });
    }
    if (this.#keys?.uri !== as.jwks_uri) {
      const set = createIdTokenKeySet(new URL(as.jwks_uri), this.http, this.options.emit);
      this.#keys = { uri: as.jwks_uri, set };
    }
    return this.#keys.set;
  }

  /** A call to one of the IdP's endpoints, as error messages describe it: with this client and its method. */
  call(step: string, endpoint: IdpEndpoint, url: string | undefined): IdpCall {
    const { clientID, method } = this.options.client;
    return { step, endpoint, url, client: { id: clientID, method }, code: 'ERR_OAUTH_RESPONSE', status: 502 };
  }
}
