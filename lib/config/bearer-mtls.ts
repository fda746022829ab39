/**
 * `bearer({ mtls })`: where the client certificate that certificate-bound tokens (RFC 8705 §3) are
 * checked against comes from. By default the TLS connection to this process; behind a proxy that
 * terminates TLS, a header the proxy sets, named here as trusted. No header is ever read otherwise.
 */
import type { ForwardedCertificateFormat } from '../protocol/mtls/forwarded-certificate.js';
import { envValue, type OptionsTable } from './option-spec.js';
import { optionalBoolean } from './validate.js';

/** A header a TLS-terminating proxy sets with the client certificate, and how it writes it. */
export interface TrustedCertificateHeader {
  /** The header's name (any case). */
  name: string;
  /** `pem`: a PEM certificate, URL-encoded or not; `xfcc`: Envoy's `x-forwarded-client-cert`. */
  format: ForwardedCertificateFormat;
}

/** The proxies `trustedHeader` names by a word. */
export type CertificateProxy = 'nginx' | 'envoy' | 'alb';

/** The proxies named by a word, and the header each is configured to set. */
const CERTIFICATE_PROXIES = {
  /** `proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;` */
  nginx: { name: 'x-ssl-client-cert', format: 'pem' },
  /** `forward_client_cert_details: SANITIZE_SET` with `set_current_client_cert_details: { cert: true }` */
  envoy: { name: 'x-forwarded-client-cert', format: 'xfcc' },
  /** mTLS passthrough mode (verify mode sends the leaf as `x-amzn-mtls-clientcert-leaf`). */
  alb: { name: 'x-amzn-mtls-clientcert', format: 'pem' },
} as const satisfies Record<CertificateProxy, TrustedCertificateHeader>;

/** Certificate-bound access tokens (RFC 8705 §3) at this API. */
export interface BearerMtlsOptions {
  /**
   * [API_MTLS_TRUSTED_HEADER] Behind a proxy that terminates TLS: the header it sets with the client
   * certificate, `'nginx'`, `'envoy'`, `'alb'` or `{ name, format }` (env: the word, or `name:format`).
   * > [!WARNING] The header is believed as it comes. Name it only when every request reaches this API
   * > through the proxy, and the proxy removes the header a client sends and sets its own.
   * @default the TLS connection to this process (`req.socket`)
   */
  trustedHeader?: CertificateProxy | TrustedCertificateHeader | undefined;
  /** [API_MTLS_REQUIRED] Refuse access tokens that are not certificate-bound. @default false */
  required?: boolean | undefined;
}

export interface BearerMtlsConfig {
  /** `undefined`: the TLS connection's certificate. Else the one header to read, lower case. */
  readonly header: Readonly<TrustedCertificateHeader> | undefined;
  readonly required: boolean;
}

export const BEARER_MTLS_OPTIONS = {
  trustedHeader: {
    env: 'API_MTLS_TRUSTED_HEADER',
    type: "'nginx' | 'envoy' | 'alb' | { name: string; format: 'pem' | 'xfcc' }",
    default: 'none: the TLS connection to this process',
    doc: "Behind a TLS-terminating proxy, the header it sets with the client certificate (the variable: the proxy's word, or `name:format`). Believed as it comes: only for an API that every request reaches through the proxy, which replaces the header.",
  },
  required: {
    env: 'API_MTLS_REQUIRED',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Refuse access tokens that are not certificate-bound.',
  },
} as const satisfies OptionsTable<BearerMtlsOptions>;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FORMATS: readonly ForwardedCertificateFormat[] = ['pem', 'xfcc'];

function trustedHeader(value: unknown): Readonly<TrustedCertificateHeader> | undefined {
  if (value === undefined) return undefined;
  const proxies = Object.keys(CERTIFICATE_PROXIES).join("', '");
  const message = `"mtls.trustedHeader" must be '${proxies}', or { name, format } with a header name and the format 'pem' or 'xfcc'`;
  let header: unknown = value;
  if (typeof value === 'string') {
    if (Object.hasOwn(CERTIFICATE_PROXIES, value)) return CERTIFICATE_PROXIES[value as CertificateProxy];
    const at = value.lastIndexOf(':');
    header = at === -1 ? undefined : { name: value.slice(0, at), format: value.slice(at + 1) };
  }
  const { name, format } = (header ?? {}) as Partial<TrustedCertificateHeader>;
  if (
    typeof name !== 'string' ||
    !TOKEN.test(name) ||
    !FORMATS.includes(format as ForwardedCertificateFormat)
  ) {
    throw new TypeError(message);
  }
  return Object.freeze({ name: name.toLowerCase(), format: format as ForwardedCertificateFormat });
}

/**
 * `mtls`: `true`, `false`, or options. The environment fills `true` and the options' unset fields
 * (`API_MTLS_TRUSTED_HEADER` says where the deployment terminates TLS, whatever the code turned on).
 */
export function validateMtls(
  value: unknown,
  env: Record<string, string | undefined>,
): BearerMtlsConfig | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new TypeError('"mtls" must be a boolean or an object ({ trustedHeader, required })');
  }
  const o: BearerMtlsOptions = value === true ? {} : (value as BearerMtlsOptions);
  return Object.freeze({
    header: trustedHeader(o.trustedHeader ?? envValue(BEARER_MTLS_OPTIONS.trustedHeader, env)),
    required: optionalBoolean(
      o.required ?? envValue(BEARER_MTLS_OPTIONS.required, env),
      'mtls.required',
      false,
    ),
  });
}
