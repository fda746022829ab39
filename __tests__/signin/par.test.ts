/** Pushed Authorization Requests (RFC 9126): on by option, and automatic when the IdP requires them. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { startSigninApp, TestBrowser } from './harness.js';

describe('pushedAuthorizationRequests: true', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startIdp();
  });
  afterAll(async () => {
    await idp.close();
  });

  test('the browser is sent to the IdP with only client_id and a request_uri, and the login completes', async () => {
    const app = await startSigninApp(idp, { options: { pushedAuthorizationRequests: true } });
    try {
      const browser = new TestBrowser();
      const start = await browser.get(`${app.baseURL}/login?returnTo=/me`);
      const url = new URL(start.location!);
      expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
      expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
      const { result } = await signInAtIdp(browser, start.location!);
      expect(result!.location).toBe(`${app.baseURL}/me`);
      expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).user.sub).toBe('alice');
    } finally {
      await app.close();
    }
  });

  test('the push authenticates the client: a wrong secret is a clear error, not a redirect', async () => {
    const app = await startSigninApp(idp, {
      options: { pushedAuthorizationRequests: true, clientSecret: 'wrong-secret-value' },
    });
    try {
      const res = await new TestBrowser().get(`${app.baseURL}/login`);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body).code).toBe('ERR_OAUTH_RESPONSE');
      expect(res.body).not.toContain('wrong-secret-value');
    } finally {
      await app.close();
    }
  });
});

test('PAR is used automatically when the IdP requires it', async () => {
  const idp = await startIdp({ requirePar: true });
  const app = await startSigninApp(idp);
  try {
    const browser = new TestBrowser();
    const start = await browser.get(`${app.baseURL}/login`);
    expect(new URL(start.location!).searchParams.has('request_uri')).toBe(true);
    expect(new URL(start.location!).searchParams.has('code_challenge')).toBe(false);
    const { result } = await signInAtIdp(browser, start.location!);
    expect(result!.status).toBe(302);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
  } finally {
    await app.close();
    await idp.close();
  }
});
