/**
 * Property-based: whatever a JWKS endpoint serves (any JSON, any key shapes), bearer()'s verifier
 * answers 401 invalid_token or 503 (an outage), never anything else, and never hangs.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import type { PortcullisError } from '../../lib/errors.js';
import { createTokenVerifier } from '../../lib/protocol/token-verifier.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';

const RUNS = Number(process.env['FC_RUNS'] ?? 100);
let rogue: RogueIdp;
beforeAll(async () => {
  rogue = await startRogueIdp();
});
afterAll(() => rogue.close());

const jwk = fc.record(
  {
    kty: fc.oneof(fc.constantFrom('RSA', 'EC', 'OKP', 'oct'), fc.string()),
    kid: fc.oneof(fc.constant('k1'), fc.string()),
    alg: fc.oneof(fc.constantFrom('RS256', 'ES256', 'none', 'HS256'), fc.string()),
    use: fc.constantFrom('sig', 'enc'),
    n: fc.oneof(fc.base64String(), fc.integer()),
    e: fc.constantFrom('AQAB', 'AAAA', ''),
    crv: fc.constantFrom('P-256', 'Ed25519', 'nope'),
    x: fc.base64String(),
    y: fc.base64String(),
    k: fc.base64String(),
  },
  { requiredKeys: [] },
);

test('any JWKS document', async () => {
  const signer = rogue.keys[0]!;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.jsonValue(), fc.record({ keys: fc.array(jwk, { maxLength: 4 }) })),
      async (doc) => {
        rogue.keys = [{ ...signer, publicJwk: doc as never }];
        const verifier = createTokenVerifier(
          validateBearerOptions(
            { issuer: rogue.issuer, jwksUri: `${rogue.issuer}/jwks`, audience: 'api', httpTimeout: 1000 },
            {},
          ),
        );
        const now = Math.floor(Date.now() / 1000);
        const token = await rogue.sign(
          { iss: rogue.issuer, aud: 'api', sub: 's', iat: now, exp: now + 60 },
          { key: signer, header: { typ: 'at+jwt', kid: 'k1' } },
        );
        try {
          await verifier.verify(token);
          throw new Error('a token was accepted with a JWKS that does not hold its key');
        } catch (err) {
          expect([401, 503]).toContain((err as PortcullisError).status);
        }
      },
    ),
    { numRuns: RUNS },
  );
  rogue.keys = [signer];
});
