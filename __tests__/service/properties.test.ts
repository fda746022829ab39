/**
 * Property-based: whatever a token endpoint answers (any JSON, any status, any body), getToken()
 * settles, never hangs, and either yields a usable token or rejects with a PortcullisError that has a
 * stable code and carries no secret or token. FC_RUNS sets the number of cases.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { PortcullisError, serviceAgent } from '../../lib/index.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';

const RUNS = Number(process.env['FC_RUNS'] ?? 100);
const SECRET = 'service-property-secret-do-not-leak';
const TOKEN = 'AT-PROPERTY-SECRET';
let rogue: RogueIdp;

beforeAll(async () => {
  rogue = await startRogueIdp();
});
afterAll(async () => {
  await rogue.close();
});

const answer = fc.oneof(
  fc.jsonValue(),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.record(
    {
      access_token: fc.oneof(fc.constant(TOKEN), fc.integer(), fc.constant('')),
      token_type: fc.oneof(fc.constant('Bearer'), fc.constant('bearer'), fc.constant('DPoP'), fc.string()),
      expires_in: fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.string(), fc.double()),
      scope: fc.oneof(fc.string(), fc.integer()),
      error: fc.string(),
      error_description: fc.string(),
    },
    { requiredKeys: [] },
  ),
);

test('any token endpoint answer', async () => {
  await fc.assert(
    fc.asyncProperty(
      answer,
      fc.constantFrom(200, 200, 201, 400, 401, 403, 429, 500, 502),
      async (body, status) => {
        rogue.token = () => ({ status, body });
        const agent = serviceAgent({
          tokenEndpoint: `${rogue.issuer}/token`,
          clientID: 'svc',
          clientSecret: SECRET,
          retries: 0,
          httpTimeout: 1000,
        });
        try {
          const token = await agent.getToken();
          expect(typeof token.access_token).toBe('string');
          expect(token.access_token.length).toBeGreaterThan(0);
          expect(token.expires_at).toBeGreaterThan(Math.floor(Date.now() / 1000) - 1);
        } catch (err) {
          expect(err).toBeInstanceOf(PortcullisError);
          expect(typeof (err as PortcullisError).code).toBe('string');
          const shown = `${JSON.stringify(err)} ${inspect(err)} ${(err as Error).message}`;
          expect(shown).not.toContain(TOKEN);
          expect(shown).not.toContain(SECRET);
        } finally {
          await agent.close();
        }
      },
    ),
    { numRuns: RUNS },
  );
});
