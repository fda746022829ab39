/**
 * The bench's issuer: an RS256 key pair, a JWKS server on loopback that counts its fetches, and
 * RFC 9068 access tokens minted for the three mixes.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const AUDIENCE = 'https://api.bench.test';

export interface BenchIssuer {
  issuer: string;
  jwksUri: string;
  jwksHits: () => number;
  /** An access token; `extra` claims on top (`cnf` for a DPoP-bound one). */
  token: (index: number, kid?: string, extra?: Record<string, unknown>) => string;
  close: () => void;
}

export async function startIssuer(): Promise<BenchIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'bench-key-1';
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  let hits = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') hits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return {
    issuer,
    jwksUri: `${issuer}.well-known/jwks.json`,
    jwksHits: () => hits,
    token(index, useKid = kid, extra = {}) {
      const header = b64({ alg: 'RS256', typ: 'at+jwt', kid: useKid });
      const payload = b64({
        iss: issuer,
        aud: AUDIENCE,
        sub: `user-${index}`,
        client_id: 'bench',
        jti: `jti-${index}`,
        iat: now,
        exp: now + 3600,
        scope: 'orders:read',
        ...extra,
      });
      const input = `${header}.${payload}`;
      return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    },
    close: () => server.close(),
  };
}
