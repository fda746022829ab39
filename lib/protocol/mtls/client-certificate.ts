/**
 * The client's side of mutual TLS (RFC 8705): the certificate and key it presents to the IdP, checked
 * once at start-up, and how they choose the client authentication method.
 *
 * - `tls_client_auth` (§2.1): a certificate from a CA the IdP trusts, matched by its subject.
 * - `self_signed_tls_client_auth` (§2.2): a self-signed certificate registered with the client.
 * - With another method chosen explicitly (`client_secret_basic`, `private_key_jwt`), the certificate
 *   only binds the tokens (§3): the IdP issues them with `cnf.x5t#S256`.
 */
import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { certificateThumbprint, pemCertificates, readCertificate } from './certificate.js';

/** The two methods of RFC 8705 §2. */
export type TlsClientAuthMethod = 'tls_client_auth' | 'self_signed_tls_client_auth';
export const TLS_METHODS: readonly TlsClientAuthMethod[] = ['tls_client_auth', 'self_signed_tls_client_auth'];

export function isTlsMethod(method: string): method is TlsClientAuthMethod {
  return (TLS_METHODS as readonly string[]).includes(method);
}

/** The options of a client's TLS certificate, shared by the three products' client options. */
export interface ClientCertificateOptions {
  /**
   * The client certificate for mutual TLS (RFC 8705): a PEM text (the certificate, then the rest of
   * its chain) or an `X509Certificate`. With `tlsClientKey`, calls to the IdP go over TLS with it.
   */
  tlsClientCertificate?: string | X509Certificate | undefined;
  /** The certificate's private key: a PEM text (PKCS#8, PKCS#1 or SEC1, unencrypted) or a private `KeyObject`. */
  tlsClientKey?: string | KeyObject | undefined;
  /**
   * PEM certificates of the CAs that issued the servers' certificates (a private PKI), trusted for the
   * connections made with the client certificate, in addition to Node's bundled roots.
   */
  tlsServerCA?: string | undefined;
}

/** A client certificate, checked: what the TLS handshake presents, and the thumbprint tokens get. */
export interface ClientCertificate {
  /** The certificate chain as PEM, leaf first. */
  readonly chain: string;
  readonly key: KeyObject;
  /** Extra CA certificates (PEM) trusted for the servers; `undefined` for Node's own roots only. */
  readonly serverCA: readonly string[] | undefined;
  /** The leaf's `x5t#S256`: tokens issued over these connections are bound to it. */
  readonly thumbprint: string;
  /** Issued by itself: `self_signed_tls_client_auth` is its method when none is named. */
  readonly selfSigned: boolean;
  /** The leaf's subject, for messages (an IdP matches `tls_client_auth_subject_dn` against it). */
  readonly subject: string;
}

function leafOf(input: unknown, option: string): { chain: string; leaf: X509Certificate } {
  const message = `"${option}" must be a PEM certificate (the certificate, then its chain) or an X509Certificate`;
  if (input instanceof X509Certificate) return { chain: input.toString(), leaf: input };
  if (typeof input !== 'string') throw new TypeError(message);
  const ders = pemCertificates(input);
  const certificates = ders.map((der) => readCertificate(der));
  const leaf = certificates[0];
  if (leaf === undefined || certificates.some((certificate) => certificate === undefined)) {
    throw new TypeError(message);
  }
  return { chain: certificates.map((certificate) => certificate!.toString()).join(''), leaf };
}

function privateKeyOf(input: unknown, option: string): KeyObject {
  if (input instanceof KeyObject && input.type === 'private') return input;
  try {
    if (typeof input === 'string') return createPrivateKey(input);
  } catch {
    // named below
  }
  throw new TypeError(`"${option}" must be an unencrypted PEM private key or a private KeyObject`);
}

function serverCAOf(input: unknown, option: string): string[] {
  const ders = typeof input === 'string' ? pemCertificates(input) : [];
  const certificates = ders.map((der) => readCertificate(der));
  if (certificates.length === 0 || certificates.some((certificate) => certificate === undefined)) {
    throw new TypeError(`"${option}" must be one or more PEM CA certificates`);
  }
  return certificates.map((certificate) => certificate!.toString());
}

/** Where the options sit and what surrounds them, for the checks and their messages. */
export interface CertificateContext {
  /** Prefixes option names in messages (`providers.corp.`). */
  readonly p: string;
  /** The product's variable for a missing option, in words (`' (or the SERVICE_… environment variable)'`). */
  readonly orEnv: (name: string) => string;
  /** The app gave its own `fetch`: it, not portcullis, makes the connections. */
  readonly customFetch: boolean;
}

/** Check the TLS client options; `undefined` when no certificate is given. */
export function validateClientCertificate(
  options: ClientCertificateOptions,
  { p, orEnv, customFetch }: CertificateContext,
  now: number = Date.now(),
): ClientCertificate | undefined {
  const { tlsClientCertificate, tlsClientKey, tlsServerCA } = options;
  if (tlsClientCertificate === undefined) {
    if (tlsClientKey !== undefined) {
      throw new TypeError(
        `"${p}tlsClientKey" is set without "${p}tlsClientCertificate"${orEnv('TLS_CLIENT_CERTIFICATE')}: give both, or neither`,
      );
    }
    if (tlsServerCA !== undefined) {
      throw new TypeError(
        `"${p}tlsServerCA" applies to the connections made with "${p}tlsClientCertificate", which is not set; ` +
          'to trust a CA for every connection of the process, use NODE_EXTRA_CA_CERTS',
      );
    }
    return undefined;
  }
  if (customFetch) {
    throw new TypeError(
      `"fetch" cannot be combined with "${p}tlsClientCertificate": portcullis presents the certificate with its ` +
        `own https client. Drop "fetch", or leave "${p}tlsClientCertificate" out and let your fetch present the ` +
        "certificate (clientAuthMethod: 'tls_client_auth')",
    );
  }
  const { chain, leaf } = leafOf(tlsClientCertificate, `${p}tlsClientCertificate`);
  if (tlsClientKey === undefined) {
    throw new TypeError(
      `"${p}tlsClientCertificate" needs its private key in "${p}tlsClientKey"${orEnv('TLS_CLIENT_KEY')}`,
    );
  }
  const key = privateKeyOf(tlsClientKey, `${p}tlsClientKey`);
  const subject = leaf.subject.replaceAll('\n', ', ');
  if (!leaf.checkPrivateKey(key)) {
    throw new TypeError(
      `"${p}tlsClientKey" is not the private key of "${p}tlsClientCertificate" (${subject}): the key must be the certificate's own`,
    );
  }
  if (Date.parse(leaf.validTo) < now) {
    throw new TypeError(`"${p}tlsClientCertificate" (${subject}) expired on ${leaf.validTo}: renew it`);
  }
  return Object.freeze({
    chain,
    key,
    serverCA:
      tlsServerCA === undefined ? undefined : Object.freeze(serverCAOf(tlsServerCA, `${p}tlsServerCA`)),
    thumbprint: certificateThumbprint(leaf.raw),
    // Not checkIssued(): it also wants keyCertSign, which a self-signed client certificate need not have.
    selfSigned: leaf.issuer === leaf.subject && leaf.verify(leaf.publicKey),
    subject,
  });
}

/** The credentials other than the certificate, by option name, when given. */
function otherCredential(options: {
  clientSecret?: unknown;
  clientAssertionSigningKey?: unknown;
}): 'clientSecret' | 'clientAssertionSigningKey' | undefined {
  if (options.clientAssertionSigningKey !== undefined) return 'clientAssertionSigningKey';
  if (options.clientSecret !== undefined && options.clientSecret !== '') return 'clientSecret';
  return undefined;
}

/**
 * The method a certificate implies when `clientAuthMethod` is not given: its own, unless another
 * credential is given too. Which of the two authenticates the client is then the app's to say.
 */
export function certificateMethod(
  certificate: ClientCertificate,
  options: { clientSecret?: unknown; clientAssertionSigningKey?: unknown },
  p: string,
): TlsClientAuthMethod {
  const other = otherCredential(options);
  if (other !== undefined) {
    const alternative = other === 'clientSecret' ? 'client_secret_basic' : 'private_key_jwt';
    throw new TypeError(
      `"${p}${other}" and "${p}tlsClientCertificate" are both set: say which authenticates the client with ` +
        `"${p}clientAuthMethod" ('tls_client_auth' for the certificate, or '${alternative}', the certificate then ` +
        'only binding the tokens)',
    );
  }
  return certificate.selfSigned ? 'self_signed_tls_client_auth' : 'tls_client_auth';
}

/**
 * With a TLS method: no other credential (it would never be sent), and a certificate, unless the app's
 * own `fetch` presents one (a key that cannot leave a hardware module, an undici Agent of its own).
 */
export function checkTlsMethod(
  method: TlsClientAuthMethod,
  options: { clientSecret?: unknown; clientAssertionSigningKey?: unknown },
  certificate: ClientCertificate | undefined,
  { p, customFetch, orEnv }: CertificateContext,
): void {
  const other = otherCredential(options);
  if (other !== undefined) {
    throw new TypeError(
      `"${p}${other}" is not used with the "clientAuthMethod" "${method}": remove it (the TLS client certificate authenticates the client)`,
    );
  }
  if (certificate === undefined && !customFetch) {
    throw new TypeError(
      `"${p}tlsClientCertificate" and "${p}tlsClientKey" are required for the "clientAuthMethod" "${method}"` +
        `${orEnv('TLS_CLIENT_CERTIFICATE')}, unless your own "fetch" presents the certificate`,
    );
  }
}
