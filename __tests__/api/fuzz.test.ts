/** Whatever arrives in the Authorization header, the answer is 2xx, 400 or 401: never a 500. */

import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { getToken } from '../../lib/api/get-token.js';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import type { PortcullisError } from '../../lib/errors.js';
import { createTokenVerifier } from '../../lib/protocol/token-verifier.js';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';

let ks: KeyServer;
beforeAll(async () => {
  ks = await startKeyServer();
});
afterAll(() => ks.close());

const part = fc.oneof(
  fc.base64String().map((s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '')),
  fc.json().map((j) => Buffer.from(j).toString('base64url')),
  fc.constantFrom('eyJhbGciOiJSUzI1NiJ9', 'eyJhbGciOiJub25lIn0', 'e30', 'bnVsbA', 'W10', 'MQ'),
);
const jwsLike = fc.tuple(part, part, part).map((p) => p.join('.'));
const header = fc.oneof(
  fc.string(),
  jwsLike.map((t) => `Bearer ${t}`),
  fc.string().map((t) => `Bearer ${t}`),
);

test('garbage never escapes as anything but a 400 or 401', async () => {
  const config = validateBearerOptions({ issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE }, {});
  const verifier = createTokenVerifier(config);
  await verifier.verify(await ks.token()); // load the keys
  await fc.assert(
    fc.asyncProperty(header, async (authorization) => {
      const req = { headers: { authorization }, method: 'GET', url: '/' } as unknown as IncomingMessage;
      try {
        const token = getToken(req, config);
        if (token !== undefined) await verifier.verify(token);
      } catch (err) {
        expect([400, 401]).toContain((err as PortcullisError).status);
      }
    }),
    { numRuns: 2000 },
  );
});
