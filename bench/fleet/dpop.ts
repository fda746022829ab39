/**
 * The DPoP client of the load run: one ES256 key, a DPoP-bound client-credentials token from the
 * test IdP, and a fresh proof per API call (RFC 9449). Self-contained: the tests' DPoP helper needs jest.
 */
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { API_AUDIENCE, SERVICE_SECRET } from '../../__tests__/helpers/idp.js';

export interface DpopCaller {
  /** A proof for one request to `htu` (with the token's `ath` once there is a token). */
  proof(htm: string, htu: string): string;
  readonly token: string;
}

export async function dpopCaller(issuer: string): Promise<DpopCaller> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { crv, kty, x, y } = publicKey.export({ format: 'jwk' });
  const header = Buffer.from(
    JSON.stringify({ alg: 'ES256', typ: 'dpop+jwt', jwk: { crv, kty, x, y } }),
  ).toString('base64url');
  let token = '';
  const proof = (htm: string, htu: string) => {
    const ath = token ? { ath: createHash('sha256').update(token).digest('base64url') } : {};
    const claims = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ...ath };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  };
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`service:${SERVICE_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      dpop: proof('POST', `${issuer}/token`),
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'orders:read',
      resource: API_AUDIENCE,
    }),
  });
  const body = (await res.json()) as { access_token?: string; token_type?: string };
  if (body.token_type !== 'DPoP' || body.access_token === undefined) {
    throw new Error(`no DPoP-bound token from the IdP: ${JSON.stringify(body)}`);
  }
  token = body.access_token;
  return { proof, token };
}
