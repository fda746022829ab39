/**
 * Certificates made by the test, in pure Node: a CA, server certificates for loopback, client
 * certificates it issues, and self-signed ones. No key or certificate file lives in the repository,
 * and no `openssl` is needed: Node signs, and the few DER structures of an X.509 v3 certificate
 * (RFC 5280 §4.1) are written below. EC P-256 keys, ECDSA with SHA-256.
 */
import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';

// --- DER (X.690), only what a certificate needs -------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : n < 0x10000
          ? Buffer.from([0x82, n >> 8, n & 0xff])
          : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octets = (content: Buffer) => tlv(0x04, content);
const bits = (content: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), content]));
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const TRUE = tlv(0x01, Buffer.from([0xff]));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function integer(value: Buffer): Buffer {
  const bytes = value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value;
  return tlv(0x02, bytes);
}

function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2025-01-02T03:04:05.678Z
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

const name = (cn: string) =>
  seq(set(seq(oid('2.5.4.3'), utf8(cn))), set(seq(oid('2.5.4.10'), utf8('portcullis tests'))));
const extension = (id: string, value: Buffer, critical = false) =>
  critical ? seq(oid(id), TRUE, octets(value)) : seq(oid(id), octets(value));

function subjectAltNames(hosts: readonly string[]): Buffer {
  return seq(
    ...hosts.map((host) =>
      /^\d+\.\d+\.\d+\.\d+$/.test(host)
        ? tlv(0x87, Buffer.from(host.split('.').map(Number)))
        : tlv(0x82, Buffer.from(host, 'ascii')),
    ),
  );
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

// --- Certificates ---------------------------------------------------------------------------------

export interface TestCertificate {
  /** The certificate, PEM. */
  readonly cert: string;
  /** Its private key, PKCS#8 PEM. */
  readonly key: string;
  readonly keyObject: KeyObject;
  readonly x509: X509Certificate;
  readonly der: Buffer;
  /** RFC 8705's `x5t#S256`. */
  readonly thumbprint: string;
}

export interface TestCA extends TestCertificate {
  /** A certificate signed by this CA. */
  issue(options: IssueOptions): TestCertificate;
}

export interface IssueOptions {
  /** The subject's common name. */
  cn: string;
  /** Host names and IPv4 addresses, for a server certificate. */
  hosts?: readonly string[];
  notBefore?: Date;
  notAfter?: Date;
}

interface Signer {
  readonly name: Buffer;
  readonly key: KeyObject;
  readonly keyId: Buffer;
}

function keyIdOf(publicKeyDer: Buffer): Buffer {
  return createHash('sha1').update(publicKeyDer).digest();
}

function certificate(
  options: IssueOptions & { ca?: boolean },
  signerOf: (subject: Signer) => Signer,
): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subject: Signer = { name: name(options.cn), key: privateKey, keyId: keyIdOf(spki) };
  const signer = signerOf(subject);
  const now = Date.now();
  const extensions = [
    extension('2.5.29.19', options.ca ? seq(TRUE) : seq(), true),
    // digitalSignature (and keyCertSign, cRLSign for a CA)
    extension('2.5.29.15', options.ca ? bits(Buffer.from([0x86]), 1) : bits(Buffer.from([0x80]), 7), true),
    extension('2.5.29.14', octets(subject.keyId)),
    extension('2.5.29.35', seq(tlv(0x80, signer.keyId))),
  ];
  if (!options.ca) {
    extensions.push(extension('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))));
  }
  if (options.hosts !== undefined) extensions.push(extension('2.5.29.17', subjectAltNames(options.hosts)));
  // Positive, and minimal as DER wants it: the first byte neither 0 nor with its top bit set.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    signer.name,
    seq(
      utcTime(options.notBefore ?? new Date(now - 3600_000)),
      utcTime(options.notAfter ?? new Date(now + 24 * 3600_000)),
    ),
    subject.name,
    spki,
    explicit(3, seq(...extensions)),
  );
  const der = seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, signer.key)));
  const x509 = new X509Certificate(der);
  return {
    cert: x509.toString(),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyObject: privateKey,
    x509,
    der,
    thumbprint: createHash('sha256').update(der).digest('base64url'),
  };
}

/** A CA: self-signed, `cA: true`, and able to issue. */
export function createCA(cn = 'portcullis test CA'): TestCA {
  let self: Signer | undefined;
  const ca = certificate({ cn, ca: true }, (subject) => {
    self = subject;
    return subject;
  });
  return { ...ca, issue: (options) => certificate(options, () => self!) };
}

/** A self-signed end-entity certificate (for `self_signed_tls_client_auth`). */
export function selfSigned(options: IssueOptions): TestCertificate {
  return certificate(options, (subject) => subject);
}

/** Host names a loopback test server answers on. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1'] as const;

export interface MtlsPki {
  readonly ca: TestCA;
  /** For localhost and 127.0.0.1: the IdP's mTLS server, and the tests' APIs. */
  readonly server: TestCertificate;
  /** Issued by `ca` to the registered subject: `tls_client_auth`. */
  readonly client: TestCertificate;
  /** Issued by `ca` to someone else. */
  readonly stranger: TestCertificate;
  /** Registered (as `x5c`) with the `self_signed_tls_client_auth` clients. */
  readonly selfSigned: TestCertificate;
}

/** The certificates of the mTLS tests (helpers/mtls-idp.ts): a CA, and what it and others issue. */
export function makePki(): MtlsPki {
  const ca = createCA();
  return {
    ca,
    server: ca.issue({ cn: 'localhost', hosts: LOOPBACK_HOSTS }),
    client: ca.issue({ cn: 'mtls-client' }),
    stranger: ca.issue({ cn: 'stranger' }),
    selfSigned: selfSigned({ cn: 'self-signed-client' }),
  };
}
