/**
 * Client authentication options (RFC 6749 §2.3, RFC 7523), declared once and shared by the three
 * products, each with its own variables: sign-in reads `CLIENT_ID`, `bearer()`'s introspection
 * `API_CLIENT_ID`, `serviceAgent()` `SERVICE_CLIENT_ID`. One set of names for all three would let
 * the sign-in client's secret become the service's, or the API's.
 */
import type { ClientAuthOptions } from '../protocol/client-auth.js';
import type { ClientCertificateOptions } from '../protocol/mtls/client-certificate.js';
import { compact } from './env.js';
import { envValue, type OptionsTable } from './option-spec.js';

/** The client-auth options, their variables prefixed with `prefix` (`''`, `'API_'`, `'SERVICE_'`). */
export function clientAuthTable(prefix: string, role: string): OptionsTable<ClientAuthOptions> {
  return {
    clientID: { env: `${prefix}CLIENT_ID`, type: 'string', doc: `The client ID of ${role} at the IdP.` },
    clientSecret: {
      env: `${prefix}CLIENT_SECRET`,
      envByRule: true,
      type: 'string | (() => string | Promise<string>)',
      doc: 'The client secret, or a function returning the current one (rotation without restart).',
    },
    clientAssertionSigningKey: {
      env: `${prefix}CLIENT_ASSERTION_SIGNING_KEY`,
      envByRule: true,
      type: 'JWK | string | KeyObject',
      doc: 'A private key (JWK, PKCS#8 PEM or KeyObject): selects `private_key_jwt` (RFC 7523).',
    },
    clientAssertionSigningAlg: {
      env: `${prefix}CLIENT_ASSERTION_SIGNING_ALG`,
      type: 'string',
      default: 'from the key: RS256, ES256, ES384, ES512 or EdDSA',
      doc: 'The JWS algorithm of the client assertion.',
    },
    clientAuthMethod: {
      env: `${prefix}CLIENT_AUTH_METHOD`,
      type: "'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth'",
      default:
        "'private_key_jwt' with a key; with only a TLS client certificate 'tls_client_auth' ('self_signed_tls_client_auth' for a self-signed one); else 'client_secret_basic'",
      doc: 'How the client authenticates at the token endpoint. Use `client_secret_post` with an IdP that does not decode form-encoded Basic credentials (RFC 6749 §2.3.1). With a secret or key and `tlsClientCertificate`, name the method: the certificate then only binds the tokens.',
    },
    ...clientCertificateTable(prefix),
  };
}

/** The TLS client certificate options (RFC 8705), their variables prefixed like the client's. */
function clientCertificateTable(prefix: string): OptionsTable<ClientCertificateOptions> {
  return {
    tlsClientCertificate: {
      env: `${prefix}TLS_CLIENT_CERTIFICATE`,
      envByRule: true,
      type: 'string | X509Certificate',
      doc: 'A client certificate for mutual TLS (RFC 8705), PEM (then its chain) or an `X509Certificate`: calls to the IdP (its `mtls_endpoint_aliases` when it has them) go over TLS with it, selecting `tls_client_auth`, and the IdP may bind the tokens to it (`cnf.x5t#S256`).',
    },
    tlsClientKey: {
      env: `${prefix}TLS_CLIENT_KEY`,
      envByRule: true,
      type: 'string | KeyObject',
      doc: "The client certificate's private key: PEM (unencrypted) or a private `KeyObject`.",
    },
    tlsServerCA: {
      env: `${prefix}TLS_SERVER_CA`,
      envByRule: true,
      type: 'string',
      default: "Node's bundled roots",
      doc: "PEM certificates of the CAs of a private PKI, trusted (besides Node's roots) for the servers called with the client certificate.",
    },
  };
}

/**
 * The environment fills the client-auth options. The credentials are taken whole: a secret from
 * the environment never joins a key given in code, or the other way round.
 */
export function clientAuthFromEnv(
  options: ClientAuthOptions,
  env: Record<string, string | undefined>,
  table: OptionsTable<ClientAuthOptions>,
): ClientAuthOptions {
  const noCredentials =
    options.clientSecret === undefined &&
    options.clientAssertionSigningKey === undefined &&
    options.tlsClientCertificate === undefined &&
    options.tlsClientKey === undefined;
  const fromEnv = (name: keyof ClientAuthOptions) => envValue(table[name], env) as never;
  const tlsClientCertificate = noCredentials ? fromEnv('tlsClientCertificate') : options.tlsClientCertificate;
  return compact<ClientAuthOptions>({
    clientID: options.clientID ?? fromEnv('clientID'),
    clientSecret: noCredentials ? fromEnv('clientSecret') : options.clientSecret,
    clientAssertionSigningKey: noCredentials
      ? fromEnv('clientAssertionSigningKey')
      : options.clientAssertionSigningKey,
    clientAssertionSigningAlg: options.clientAssertionSigningAlg ?? fromEnv('clientAssertionSigningAlg'),
    clientAuthMethod: options.clientAuthMethod ?? fromEnv('clientAuthMethod'),
    tlsClientCertificate,
    tlsClientKey: noCredentials ? fromEnv('tlsClientKey') : options.tlsClientKey,
    // The servers' CA goes with a certificate: without one, the variable has nothing to apply to.
    tlsServerCA:
      options.tlsServerCA ?? (tlsClientCertificate === undefined ? undefined : fromEnv('tlsServerCA')),
  });
}
