/** Client authentication at the token endpoint: the three methods, and a secret rotated at run time. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { loginAs, startSigninApp, TestBrowser } from './harness.js';

let idp: TestIdp;
beforeAll(async () => {
  idp = await startIdp();
});
afterAll(async () => {
  await idp.close();
});

describe('client authentication against oidc-provider', () => {
  test.each([
    ['client_secret_post', () => ({ clientID: 'web-post', clientAuthMethod: 'client_secret_post' as const })],
    [
      'private_key_jwt with a PEM key',
      () => ({ clientID: 'web-jwt', clientAssertionSigningKey: idp.clientKey.pem }),
    ],
    [
      'private_key_jwt with a JWK',
      () => ({ clientID: 'web-jwt', clientAssertionSigningKey: idp.clientKey.jwk }),
    ],
    [
      'private_key_jwt with a JWK as JSON text',
      () => ({ clientID: 'web-jwt', clientAssertionSigningKey: JSON.stringify(idp.clientKey.jwk) }),
    ],
    ['an async clientSecret function', () => ({ clientSecret: async () => WEB_SECRET })],
  ])('%s', async (_name, options) => {
    const app = await startSigninApp(idp, { options: options() });
    try {
      const browser = new TestBrowser();
      const { result } = await loginAs(browser, app);
      expect(result.status).toBe(302);
      expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
      // The refresh grant authenticates the same way.
      expect((await browser.post(`${app.baseURL}/refresh`, {})).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  test("a wrong secret fails the code exchange with the IdP's error, and the secret never shows", async () => {
    const wrong = 'wrong-secret-that-must-not-leak';
    const app = await startSigninApp(idp, { options: { clientSecret: wrong } });
    try {
      const { result } = await loginAs(new TestBrowser(), app);
      expect(result.status).toBe(502);
      expect(JSON.parse(result.body).code).toBe('ERR_OAUTH_RESPONSE');
      expect(result.body).toContain('invalid_client');
      expect(result.body).not.toContain(wrong);
      expect(JSON.stringify(app.errors)).not.toContain(wrong);
    } finally {
      await app.close();
    }
  });
});

test('a clientSecret function is read on every request, so a rotated secret is used without restart', async () => {
  const rogue = await startRogueIdp();
  let secret = 'secret-one';
  const app = await startSigninApp(rogue, {
    options: { clientSecret: () => secret, authorizationParams: { scope: 'openid' } },
  });
  try {
    const seen: string[] = [];
    rogue.token = () => ({ status: 400, body: { error: 'invalid_grant' } });
    for (const next of ['secret-one', 'secret-two']) {
      secret = next;
      const browser = new TestBrowser();
      const state = new URL((await browser.get(`${app.baseURL}/login`)).location!).searchParams.get('state')!;
      await browser.get(
        `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state, iss: rogue.issuer })}`,
      );
      const auth = rogue.requests.filter((r) => r.path === '/token').at(-1)!.headers.authorization!;
      seen.push(decodeURIComponent(Buffer.from(auth.slice(6), 'base64').toString().split(':')[1]!));
    }
    expect(seen).toEqual(['secret-one', 'secret-two']);
  } finally {
    await app.close();
    await rogue.close();
  }
});
