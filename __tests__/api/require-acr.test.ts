/** requireAcr() after bearer(): RFC 9470 insufficient_user_authentication with acr_values and max_age. */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import express from 'express';
import { bearer, requireAcr } from '../../lib/index.js';
import { type RunningApp, startApp } from '../helpers/app.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';

let rogue: RogueIdp;
let api: RunningApp;
beforeAll(async () => {
  rogue = await startRogueIdp();
  api = await startApp(() => {
    const app = express();
    app.use(bearer({ issuer: rogue.issuer, jwksUri: `${rogue.issuer}/jwks`, audience: 'api' }));
    app.post('/payments', requireAcr(['urn:example:mfa'], { maxAge: 300 }), (_req, res) =>
      res.json({ paid: true }),
    );
    return app;
  });
});
afterAll(async () => {
  await api.close();
  await rogue.close();
});

async function call(claims: Record<string, unknown>) {
  const now = Math.floor(Date.now() / 1000);
  const token = await rogue.sign(
    { iss: rogue.issuer, aud: 'api', sub: 'u', iat: now, exp: now + 60, ...claims },
    { header: { typ: 'at+jwt' } },
  );
  return fetch(`${api.baseURL}/payments`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

test('a strong, recent authentication passes', async () => {
  const res = await call({ acr: 'urn:example:mfa', auth_time: Math.floor(Date.now() / 1000) - 10 });
  expect(res.status).toBe(200);
});

test.each([
  ['a weaker acr', { acr: 'urn:example:pwd', auth_time: Math.floor(Date.now() / 1000) }],
  ['no acr', { auth_time: Math.floor(Date.now() / 1000) }],
  ['an old authentication', { acr: 'urn:example:mfa', auth_time: Math.floor(Date.now() / 1000) - 3600 }],
  ['no auth_time', { acr: 'urn:example:mfa' }],
])('%s: 401 insufficient_user_authentication with acr_values and max_age', async (_name, claims) => {
  const res = await call(claims);
  expect(res.status).toBe(401);
  const challenge = res.headers.get('www-authenticate')!;
  expect(challenge).toMatch(/^Bearer /);
  expect(challenge).toContain('error="insufficient_user_authentication"');
  expect(challenge).toContain('acr_values="urn:example:mfa"');
  expect(challenge).toContain('max_age=300');
  expect((await res.json()).error).toBe('insufficient_user_authentication');
});
