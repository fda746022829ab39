/**
 * The JWS algorithms `bearer()` can verify, and what each needs of a key. The allowed list always
 * comes from the options, never from the token or the IdP's metadata (RFC 8725 §3.1).
 */

/** The asymmetric JWS algorithms: RSA, RSA-PSS, ECDSA and EdDSA. */
export type AsymmetricAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519';
/** The HMAC JWS algorithms, allowed only with an explicit `secret`. */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export const HMAC_ALGORITHMS: readonly HmacAlgorithm[] = ['HS256', 'HS384', 'HS512'];
/** A JWS algorithm `bearer()` verifies. `none` is not one of them, on purpose. */
export type JwsAlgorithm = AsymmetricAlgorithm | HmacAlgorithm;

export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
  return (
    (ASYMMETRIC_ALGORITHMS as readonly unknown[]).includes(value) ||
    (HMAC_ALGORITHMS as readonly unknown[]).includes(value)
  );
}

export function isHmac(alg: JwsAlgorithm): alg is HmacAlgorithm {
  return alg.startsWith('HS');
}

/** The digest an algorithm hashes with (`null` for EdDSA, which hashes internally). */
export function digestOf(alg: JwsAlgorithm): 'sha256' | 'sha384' | 'sha512' | null {
  if (alg === 'EdDSA' || alg === 'Ed25519') return null;
  return `sha${alg.slice(2)}` as 'sha256' | 'sha384' | 'sha512';
}

/** The JWK `kty` (and `crv` for EC/OKP) a key must have to verify `alg`. */
export function keyShapeOf(alg: AsymmetricAlgorithm): { kty: 'RSA' | 'EC' | 'OKP'; crv?: string } {
  switch (alg) {
    case 'ES256':
      return { kty: 'EC', crv: 'P-256' };
    case 'ES384':
      return { kty: 'EC', crv: 'P-384' };
    case 'ES512':
      return { kty: 'EC', crv: 'P-521' };
    case 'EdDSA':
    case 'Ed25519':
      return { kty: 'OKP', crv: 'Ed25519' };
    default:
      return { kty: 'RSA' };
  }
}
