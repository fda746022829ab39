/**
 * The client certificate a TLS-terminating proxy forwards in a header, read for its `x5t#S256`
 * (RFC 8705 §3). Two formats cover the common proxies:
 *
 * - `pem`: a PEM certificate, URL-encoded or not (nginx's `$ssl_client_escaped_cert`, AWS ALB's
 *   `X-Amzn-Mtls-Clientcert`, CloudFront's `CloudFront-Viewer-Cert-Pem`); the first certificate of a
 *   chain is the client's. URL-decoding never turns `+` into a space: ALB leaves `+` as it is. Its
 *   base64 DER without the BEGIN and END lines is read too (HAProxy's `%[ssl_c_der,base64]`).
 * - `xfcc`: Envoy's `x-forwarded-client-cert`, `By=…;Hash=<hex SHA-256 of the DER>;Cert="<URL-encoded
 *   PEM>";…`. Exactly one element is accepted: several mean the header went through proxies that
 *   append (APPEND_FORWARD), and which element is the client's is a guess this code does not make.
 *
 * Whatever the header holds, the answer is a thumbprint or a reason it cannot be read, never a throw:
 * a bad header is the client's problem (401), not the server's (500).
 */
import { certificateThumbprint, pemCertificates, readCertificate } from './certificate.js';

export type ForwardedCertificateFormat = 'pem' | 'xfcc';

export type ForwardedThumbprint =
  | { readonly thumbprint: string; readonly problem?: undefined }
  | { readonly thumbprint?: undefined; readonly problem: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The largest header value read: a certificate chain is a few KB. */
const MAX_LENGTH = 32 * 1024;

function problem(text: string): ForwardedThumbprint {
  return { problem: text };
}

function urlDecoded(value: string): string | undefined {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** The first certificate of a (possibly URL-encoded) PEM text, or a certificate's base64 DER. */
function pemThumbprint(value: string): ForwardedThumbprint {
  const text = urlDecoded(value);
  if (text === undefined) return problem('it is not valid URL-encoding');
  const bare = text.replace(/\s+/g, '');
  const der = pemCertificates(text)[0] ?? (BASE64.test(bare) ? Buffer.from(bare, 'base64') : undefined);
  if (der === undefined) return problem('it holds no PEM certificate');
  if (readCertificate(der) === undefined) return problem('its PEM block is not an X.509 certificate');
  return { thumbprint: certificateThumbprint(der) };
}

/** Split on `separator` outside double quotes (a backslash escapes the next character inside them). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unquoted(value: string): string {
  const text = value.trim();
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) return text;
  return text.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Envoy's XFCC element: `Cert` (read and hashed here) wins over `Hash`, and both must agree. */
function xfccThumbprint(value: string): ForwardedThumbprint {
  const elements = splitOutsideQuotes(value, ',').filter((element) => element.trim() !== '');
  if (elements.length !== 1) {
    return problem(
      `it has ${elements.length} elements, not one: the edge Envoy must replace the header (forward_client_cert_details: SANITIZE_SET)`,
    );
  }
  const fields = new Map<string, string>();
  for (const pair of splitOutsideQuotes(elements[0]!, ';')) {
    const at = pair.indexOf('=');
    if (at > 0) fields.set(pair.slice(0, at).trim().toLowerCase(), unquoted(pair.slice(at + 1)));
  }
  const hash = fields.get('hash');
  let fromHash: string | undefined;
  if (hash !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(hash)) return problem('its Hash is not a hex SHA-256');
    fromHash = Buffer.from(hash, 'hex').toString('base64url');
  }
  const cert = fields.get('cert');
  if (cert === undefined) {
    return fromHash === undefined ? problem('it has neither Hash nor Cert') : { thumbprint: fromHash };
  }
  const fromCert = pemThumbprint(cert);
  if (fromCert.problem !== undefined) return problem(`its Cert: ${fromCert.problem}`);
  if (fromHash !== undefined && fromHash !== fromCert.thumbprint) {
    return problem('its Hash is not the hash of its Cert');
  }
  return fromCert;
}

/** The thumbprint of the certificate in one header value, or why there is none. */
export function forwardedThumbprint(value: string, format: ForwardedCertificateFormat): ForwardedThumbprint {
  if (value.length > MAX_LENGTH) return problem(`it is longer than ${MAX_LENGTH} characters`);
  return format === 'xfcc' ? xfccThumbprint(value) : pemThumbprint(value.trim());
}
