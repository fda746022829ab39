/**
 * X.509 certificates as RFC 8705 uses them: the `x5t#S256` thumbprint (the base64url SHA-256 of the
 * certificate's DER) that binds a token to a certificate, and the DER of a certificate written as PEM.
 */
import { hash, X509Certificate } from 'node:crypto';

/** RFC 8705 §3.1: `x5t#S256`, the base64url-encoded SHA-256 of the certificate's DER. */
export function certificateThumbprint(der: Uint8Array): string {
  return hash('sha256', der, 'base64url');
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The certificates of a PEM text, in order (leaf first in a chain), as DER. Whitespace of any kind
 * inside a block is ignored: proxies forward PEM with spaces or tabs where the newlines were.
 * A block that is not base64 yields nothing.
 */
export function pemCertificates(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const [, body] of text.matchAll(PEM_BLOCK)) {
    const base64 = body!.replace(/\s+/g, '');
    if (!BASE64.test(base64)) return [];
    out.push(Buffer.from(base64, 'base64'));
  }
  return out;
}

/** A certificate from DER, or `undefined` when the bytes are not one. */
export function readCertificate(der: Uint8Array): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}
