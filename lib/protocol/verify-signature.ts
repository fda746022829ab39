/**
 * JWS signature verification with `node:crypto` on keys imported once, ahead of time.
 *
 * Why not jose's `jwtVerify` here: jose verifies through WebCrypto, which is asynchronous and costs
 * about 100 µs of CPU per call under load; `crypto.verify` on an already-imported `KeyObject` is
 * synchronous and costs about 20–40 µs for RS256. Every check jose makes still happens, in
 * `access-token.ts`, before this runs; this file only answers "does this signature verify".
 */
import { constants, createHmac, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { type AsymmetricAlgorithm, digestOf, type HmacAlgorithm } from './algorithms.js';

/** ECDSA signatures are the raw `r || s` pair (RFC 7518 §3.4), of a fixed length per curve. */
const ECDSA_SIGNATURE_LENGTH: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 };

/** The verdicts of {@link keyFitsAlgorithm}, per key: reading a KeyObject's details is a native call. */
const fitsMemo = new WeakMap<KeyObject, Map<AsymmetricAlgorithm, boolean>>();

/** True when `key` (a public KeyObject) can verify `alg`: the right type, curve and strength. */
export function keyFitsAlgorithm(key: KeyObject, alg: AsymmetricAlgorithm): boolean {
  let memo = fitsMemo.get(key);
  if (memo === undefined) {
    memo = new Map();
    fitsMemo.set(key, memo);
  }
  let fits = memo.get(alg);
  if (fits === undefined) {
    fits = computeFit(key, alg);
    memo.set(alg, fits);
  }
  return fits;
}

function computeFit(key: KeyObject, alg: AsymmetricAlgorithm): boolean {
  const type = key.asymmetricKeyType;
  switch (alg) {
    case 'ES256':
      return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    case 'ES384':
      return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
    case 'ES512':
      return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp521r1';
    case 'EdDSA':
    case 'Ed25519':
      return type === 'ed25519';
    default:
      // RFC 7518 §3.3: RSA keys of 2048 bits or more.
      return type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  }
}

/** Verify an asymmetric JWS signature over `signingInput` (the ASCII `header.payload`). */
export function verifyAsymmetric(
  alg: AsymmetricAlgorithm,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): boolean {
  if (!keyFitsAlgorithm(key, alg)) return false;
  const digest = digestOf(alg);
  try {
    if (alg.startsWith('ES')) {
      if (signature.length !== ECDSA_SIGNATURE_LENGTH[alg]) return false;
      return verify(digest, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    if (alg.startsWith('PS')) {
      return verify(
        digest,
        signingInput,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      );
    }
    return verify(digest, signingInput, key, signature);
  } catch {
    // A malformed signature makes OpenSSL throw; for us it is simply "does not verify".
    return false;
  }
}

/** Verify an HMAC JWS signature in constant time. Only ever called with the configured `secret`. */
export function verifyHmac(
  alg: HmacAlgorithm,
  secret: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): boolean {
  const expected = createHmac(digestOf(alg)!, secret).update(signingInput).digest();
  return expected.length === signature.length && timingSafeEqual(expected, signature);
}
