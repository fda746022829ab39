/**
 * DPoP keys (RFC 9449 §4.2): a generated ES256 key pair, or one the user supplies so that a fleet
 * can share it. Parsed and checked synchronously at start-up (a bad key is a TypeError then, and the
 * JWK thumbprint is known at once, for cache keys); turned into WebCrypto keys lazily, the private
 * one non-extractable.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import * as jose from 'jose';
import { jwkThumbprint } from './jwk.js';

/** A key the user may supply: a WebCrypto key pair, a private JWK (object or JSON), a PKCS#8 PEM or a private KeyObject. */
export type DpopKeyInput = CryptoKeyPair | jose.JWK | string | KeyObject;

/** The JWS algorithms a DPoP proof may use (asymmetric only, RFC 9449 §4.2). */
export const DPOP_ALGORITHMS: readonly DpopAlgorithm[] = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'RS256',
];
/** The JWS algorithms a DPoP key may sign proofs with. */
export type DpopAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'Ed25519' | 'PS256' | 'RS256';

/** A checked DPoP key: what a proof needs, and its RFC 7638 thumbprint (the token's `cnf.jkt`). */
export interface DpopKey {
  readonly alg: DpopAlgorithm;
  /** The public JWK as it goes into the proof's header (no private members). */
  readonly publicJwk: jose.JWK;
  /** RFC 7638 SHA-256 JWK thumbprint of the public key. */
  readonly thumbprint: string;
  /** The WebCrypto key pair, imported once on first use; the private key is not extractable. */
  keyPair(): Promise<CryptoKeyPair>;
  /** The private key as a Node KeyObject, for the per-call proofs (signed with node:crypto). */
  signingKey(): Promise<KeyObject>;
}

function algFor(publicKey: KeyObject, requested: DpopAlgorithm | undefined): DpopAlgorithm {
  const type = publicKey.asymmetricKeyType;
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  const fits: DpopAlgorithm[] =
    type === 'ec'
      ? curve === 'prime256v1'
        ? ['ES256']
        : curve === 'secp384r1'
          ? ['ES384']
          : curve === 'secp521r1'
            ? ['ES512']
            : []
      : type === 'ed25519'
        ? ['EdDSA', 'Ed25519']
        : type === 'rsa'
          ? ['PS256', 'RS256']
          : [];
  if (fits.length === 0) {
    throw new TypeError('"dpop.key" must be an EC (P-256, P-384, P-521), Ed25519 or RSA key');
  }
  if (requested === undefined) return fits[0]!;
  if (!fits.includes(requested)) throw new TypeError(`"dpop.alg" "${requested}" does not fit the key`);
  return requested;
}

function isCryptoKeyPair(input: unknown): input is CryptoKeyPair {
  const pair = input as Partial<CryptoKeyPair> | null;
  return (
    typeof pair === 'object' &&
    pair !== null &&
    typeof pair.privateKey === 'object' &&
    typeof pair.publicKey === 'object' &&
    typeof (pair.privateKey as { algorithm?: unknown } | undefined)?.algorithm === 'object'
  );
}

/** A key pair supplied as WebCrypto keys: used as is (the private key may stay non-extractable). */
function fromCryptoKeyPair(pair: CryptoKeyPair): {
  publicKey: KeyObject;
  keyPair: () => Promise<CryptoKeyPair>;
} {
  if (pair.privateKey.type !== 'private' || pair.publicKey.type !== 'public') {
    throw new TypeError('"dpop.key" must be a key pair with a private and a public key');
  }
  if (!pair.publicKey.extractable) {
    // It goes into every proof's header (oauth4webapi insists on it too).
    throw new TypeError('"dpop.key" public key must be extractable');
  }
  if (!pair.privateKey.usages.includes('sign')) {
    throw new TypeError('"dpop.key" private key must allow "sign"');
  }
  let publicKey: KeyObject;
  try {
    publicKey = KeyObject.from(pair.publicKey);
  } catch {
    throw new TypeError('"dpop.key" must be a WebCrypto key pair');
  }
  return { publicKey, keyPair: async () => pair };
}

/** A private key given as a JWK, PEM or KeyObject; the public key is derived from it. */
function privateKeyObject(input: jose.JWK | string | KeyObject): KeyObject {
  try {
    if (input instanceof KeyObject || (input as KeyObject)?.type === 'private') return input as KeyObject;
    if (typeof input === 'string') {
      const text = input.trim();
      if (!text.startsWith('{')) return createPrivateKey(text);
      return createPrivateKey({ key: JSON.parse(text) as import('node:crypto').JsonWebKey, format: 'jwk' });
    }
    return createPrivateKey({ key: input as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw new TypeError(
      '"dpop.key" must be a private JWK, a PKCS#8 PEM, a private KeyObject or a CryptoKeyPair',
    );
  }
}

function build(
  publicKey: KeyObject,
  alg: DpopAlgorithm,
  keyPair: () => Promise<CryptoKeyPair>,
  privateKey: KeyObject | undefined,
): DpopKey {
  const { kty, crv, x, y, e, n } = publicKey.export({ format: 'jwk' }) as jose.JWK;
  const publicJwk = Object.fromEntries(
    Object.entries({ kty, crv, x, y, e, n }).filter(([, v]) => v !== undefined),
  ) as jose.JWK;
  let pending: Promise<CryptoKeyPair> | undefined;
  return Object.freeze({
    alg,
    publicJwk: Object.freeze(publicJwk),
    thumbprint: jwkThumbprint(publicJwk),
    keyPair: () => {
      pending ??= keyPair();
      return pending;
    },
    // A supplied WebCrypto key stays a CryptoKey; KeyObject.from wraps it without extracting it.
    signingKey: async () => privateKey ?? KeyObject.from((await keyPair()).privateKey),
  });
}

/**
 * Check a supplied DPoP key, or generate one (ES256 by default). Throws a TypeError naming the
 * option, never the key.
 */
export function dpopKey(input: DpopKeyInput | undefined, requestedAlg?: DpopAlgorithm): DpopKey {
  if (input === undefined) {
    const alg = requestedAlg ?? 'ES256';
    const pair = generateForAlg(alg);
    return build(
      pair.publicKey,
      algFor(pair.publicKey, alg),
      () => importPair(pair.privateKey, alg),
      pair.privateKey,
    );
  }
  if (isCryptoKeyPair(input)) {
    const { publicKey, keyPair } = fromCryptoKeyPair(input);
    return build(publicKey, algFor(publicKey, requestedAlg), keyPair, undefined);
  }
  const privateKey = privateKeyObject(input);
  if (privateKey.type !== 'private') throw new TypeError('"dpop.key" must be a private key');
  const publicKey = createPublicKey(privateKey);
  const alg = algFor(publicKey, requestedAlg);
  return build(publicKey, alg, () => importPair(privateKey, alg), privateKey);
}

function generateForAlg(alg: DpopAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'ES384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ES512':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'EdDSA':
    case 'Ed25519':
      return generateKeyPairSync('ed25519');
    case 'PS256':
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    default:
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  }
}

/**
 * Import as WebCrypto keys (what oauth4webapi's DPoP handle takes), the private one non-extractable.
 */
async function importPair(privateKey: KeyObject, alg: DpopAlgorithm): Promise<CryptoKeyPair> {
  const jwk = privateKey.export({ format: 'jwk' }) as jose.JWK;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  const [priv, publicKey] = await Promise.all([
    jose.importJWK(jwk, alg, { extractable: false }) as Promise<CryptoKey>,
    jose.importJWK(pub, alg, { extractable: true }) as Promise<CryptoKey>,
  ]);
  return { privateKey: priv, publicKey };
}
