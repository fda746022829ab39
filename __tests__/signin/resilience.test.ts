/** The IdP down, slow or failing: clear 503s with Retry-After, and recovery without a restart. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import { loginAs, startSigninApp, TestBrowser } from './harness.js';

describe('IdP down at start-up', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startIdp();
  });
  afterAll(async () => {
    await idp.close();
  });

  test('the app starts, login answers 503 with a clear message, and recovers once the IdP answers', async () => {
    await idp.stop();
    const app = await startSigninApp(idp);
    try {
      const browser = new TestBrowser();
      const down = await browser.get(`${app.baseURL}/login`);
      expect(down.status).toBe(503);
      const { code, message } = JSON.parse(down.body);
      expect(code).toBe('ERR_IDP_UNAVAILABLE');
      expect(message).toBe(
        `discovery failed: ${idp.issuer}/.well-known/openid-configuration could not be reached (ECONNREFUSED): ` +
          `check issuerBaseURL ("${idp.issuer}/"), and that this server can reach the IdP (DNS, proxy, firewall)`,
      );
      // Pages that do not need the IdP keep working.
      expect((await browser.get(`${app.baseURL}/me`)).status).toBe(200);

      await idp.start();
      await new Promise((r) => setTimeout(r, 1100)); // the failure is remembered for 1 s so a down IdP is not hammered
      const { result } = await loginAs(browser, app);
      expect(result.status).toBe(302);
      expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
    } finally {
      await app.close();
    }
  });
});

describe('a slow or failing IdP', () => {
  test('a slow IdP times out with 503 and Retry-After instead of hanging', async () => {
    const rogue = await startRogueIdp();
    rogue.delay = 2000;
    const app = await startSigninApp(rogue, { options: { httpTimeout: 200 } });
    try {
      const started = Date.now();
      const res = await fetch(`${app.baseURL}/login`, { redirect: 'manual' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect((await res.json()).message).toBe(
        `discovery failed: ${rogue.issuer}/.well-known/openid-configuration did not answer in time (httpTimeout): ` +
          'the IdP is slow or overloaded; retry later, or raise httpTimeout',
      );
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await app.close();
      await rogue.close();
    }
  });

  test('a 500 from the token endpoint at the callback is a 503, and discovery garbage names the rule', async () => {
    const rogue = await startRogueIdp();
    const app = await startSigninApp(rogue, { options: { authorizationParams: { scope: 'openid' } } });
    try {
      const browser = new TestBrowser();
      const state = new URL((await browser.get(`${app.baseURL}/login`)).location!).searchParams.get('state')!;
      rogue.token = () => ({ status: 500, body: 'oops' });
      const res = await browser.get(
        `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state, iss: rogue.issuer })}`,
      );
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body).code).toBe('ERR_IDP_UNAVAILABLE');
    } finally {
      await app.close();
    }
    // A discovery document for another issuer (a mix-up or a misconfigured proxy).
    rogue.metadata['issuer'] = 'https://somebody-else.example';
    const other = await startSigninApp(rogue);
    try {
      const res = await fetch(`${other.baseURL}/login`, { redirect: 'manual' });
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body.code).toBe('ERR_DISCOVERY_FAILED');
      expect(body.message).toBe(
        `discovery failed: the "issuer" of ${rogue.issuer}/.well-known/openid-configuration is "https://somebody-else.example", ` +
          `not "${rogue.issuer}/": if that is the IdP you mean, set issuerBaseURL to its issuer exactly (trailing slash and path included)`,
      );
    } finally {
      await other.close();
      await rogue.close();
    }
  });

  test('discovery endpoints over plain http on a non-loopback host are refused', async () => {
    const rogue = await startRogueIdp();
    rogue.metadata['token_endpoint'] = 'http://idp.example.com/token';
    const app = await startSigninApp(rogue);
    try {
      const res = await fetch(`${app.baseURL}/login`, { redirect: 'manual' });
      expect(res.status).toBe(503);
      expect((await res.json()).message).toBe(
        'the IdP\'s "token_endpoint" must use https (plain http only for loopback hosts or with "allowInsecureHttp")',
      );
    } finally {
      await app.close();
      await rogue.close();
    }
  });

  test("RFC 8414 fallback: an OAuth-only server's metadata is read from oauth-authorization-server", async () => {
    const rogue = await startRogueIdp();
    rogue.openidDiscovery = false;
    const app = await startSigninApp(rogue, { options: { authorizationParams: { scope: 'openid' } } });
    try {
      const res = await fetch(`${app.baseURL}/login`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toMatch(new RegExp(`^${rogue.issuer}/authorize\\?`));
      expect(rogue.requests.map((r) => r.path)).toEqual([
        '/.well-known/openid-configuration',
        '/.well-known/oauth-authorization-server',
      ]);
    } finally {
      await app.close();
      await rogue.close();
    }
  });
});
