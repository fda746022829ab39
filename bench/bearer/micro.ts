/**
 * Per-token cost of portcullis's verifier alone (no HTTP): `node --import tsx bench/bearer/micro.ts`.
 * Useful to see where the time goes: cache hits, misses, and raw jose for comparison.
 */
import * as jose from 'jose';
import { validateBearerOptions } from '../../lib/config/bearer.js';
import { createDpopProofVerifier } from '../../lib/protocol/dpop/proof-verifier.js';
import { createDpopReplayCache } from '../../lib/protocol/dpop/replay-cache.js';
import { createTokenVerifier } from '../../lib/protocol/token-verifier.js';
import { dpopClient } from './dpop.js';
import { AUDIENCE, startIssuer } from './keys.js';

const issuer = await startIssuer();
const tokens = Array.from({ length: 2000 }, (_, n) => issuer.token(n));

async function time(name: string, n: number, fn: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < Math.min(n, 2000); i++) await fn(i); // warm-up
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const { user, system } = process.cpuUsage(start);
  console.log(`${name.padEnd(40)} ${((user + system) / n).toFixed(1)} µs CPU per token`);
}

const config = validateBearerOptions(
  { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE },
  {},
);
const cached = createTokenVerifier(config);
await time('portcullis, one token (cache hit)', 20000, () => cached.verify(tokens[0]!));
await time('portcullis, 1,000 tokens (cache hits)', 20000, (i) => cached.verify(tokens[i % 1000]!));
await time('portcullis, 2,000 tokens (misses)', 10000, (i) => cached.verify(tokens[i % 2000]!));
const uncached = createTokenVerifier(
  validateBearerOptions(
    { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, cacheMaxEntries: 0 },
    {},
  ),
);
await time('portcullis, no cache', 10000, (i) => uncached.verify(tokens[i % 2000]!));
const jwks = jose.createRemoteJWKSet(new URL(issuer.jwksUri));
await time('jose jwtVerify', 5000, (i) =>
  jose.jwtVerify(tokens[i % 2000]!, jwks, { issuer: issuer.issuer, audience: AUDIENCE, typ: 'at+jwt' }),
);

// DPoP: the proof check alone (a fresh proof per request), portcullis (node:crypto, the key imported
// once per thumbprint) against jose (jwtVerify with EmbeddedJWK, plus the thumbprint).
const dpop = dpopClient();
const htu = 'https://api.bench.test/api/hello';
const bound = issuer.token(0, undefined, { cnf: { jkt: dpop.jkt } });
const proofs = dpop.proofs(20000, htu, bound);
let next = 0; // every call takes a new proof (a replayed one would be refused), warm-up included
const proofVerifier = createDpopProofVerifier({
  algorithms: new Set(['ES256']),
  iatWindow: 60,
  clockTolerance: 5,
  realm: 'api',
  nonces: undefined,
  replay: createDpopReplayCache(100_000),
});
await time('portcullis DPoP proof (ES256)', 8000, () =>
  proofVerifier.verify(
    proofs[next++]!,
    { method: 'GET', htu, accessToken: bound, jkt: dpop.jkt },
    Date.now(),
  ),
);
await time('jose DPoP proof (ES256, EmbeddedJWK)', 8000, async () => {
  const { protectedHeader } = await jose.jwtVerify(proofs[next++ % proofs.length]!, jose.EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: ['ES256'],
  });
  return jose.calculateJwkThumbprint(protectedHeader.jwk!);
});
issuer.close();
