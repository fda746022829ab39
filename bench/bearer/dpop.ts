/**
 * The client side of DPoP for the bench: one ES256 key, and proofs minted ahead of time (each
 * needs its own `jti`, and signing them in the load generator would make it the bottleneck).
 */
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';

export interface BenchDpopClient {
  /** The key's RFC 7638 thumbprint: the bound token's `cnf.jkt`. */
  readonly jkt: string;
  /** `count` fresh proofs for `GET htu` with `token`. */
  proofs(count: number, htu: string, token: string): string[];
}

export function dpopClient(): BenchDpopClient {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { crv, kty, x, y } = publicKey.export({ format: 'jwk' });
  const jwk = { crv, kty, x, y };
  const jkt = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url');
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'dpop+jwt', jwk })).toString('base64url');
  return {
    jkt,
    proofs(count, htu, token) {
      const ath = createHash('sha256').update(token).digest('base64url');
      const iat = Math.floor(Date.now() / 1000);
      return Array.from({ length: count }, () => {
        const claims = { jti: randomUUID(), htm: 'GET', htu, iat, ath };
        const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
        const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
        return `${input}.${signature.toString('base64url')}`;
      });
    },
  };
}
