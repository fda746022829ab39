/**
 * What a sign-in user (and the operator reading the error page or log) learns when the IdP fails:
 * the URL called, the status it answered, the IdP's own error, and what to check. oidc-provider for
 * real `invalid_client` answers; IdPs of our own for a 404 discovery, a 403 HTML token endpoint and a
 * refused userinfo call.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { SigninEvent } from '../../lib/index.js';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';
import { type OddIdp, startOddIdp } from '../helpers/odd-idp.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

/** No secret, client assertion or token in what a log or an error page could show. */
function expectNothingSecret(app: SigninApp, secrets: string[]): void {
  for (const secret of secrets) {
    expect(JSON.stringify(app.errors)).not.toContain(secret);
    expect(inspect(app.errors, { depth: 10, showHidden: true })).not.toContain(secret);
  }
}

describe('auth() against oidc-provider: invalid_client says which method and what to check', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startIdp();
  });
  afterAll(() => idp.close());

  test('client_secret_basic: the token endpoint URL, 401 "invalid_client", the RFC 6749 §2.3.1 encoding hint', async () => {
    const wrong = 'wrong-secret-with-dashes-0123456789';
    const app = await startSigninApp(idp, { options: { clientSecret: wrong } });
    try {
      const { result } = await loginAs(new TestBrowser(), app);
      expect(result.status).toBe(502);
      const { code, message } = JSON.parse(result.body);
      expect(code).toBe('ERR_OAUTH_RESPONSE');
      expect(message).toContain(
        `code exchange failed: the token endpoint ${idp.issuer}/token answered 401 "invalid_client"`,
      );
      expect(message).toContain(
        'the IdP did not accept client "web" authenticating with client_secret_basic',
      );
      expect(message).toContain('check the client ID and secret registered at the IdP');
      expect(message).toContain('form-encoded in the Basic header (RFC 6749 §2.3.1: "-" becomes "%2D"');
      expect(message).toContain("clientAuthMethod: 'client_secret_post' avoids it");
      expectNothingSecret(app, [wrong, Buffer.from(`web:${wrong}`).toString('base64')]);
    } finally {
      await app.close();
    }
  });

  test('client_secret_post: the method is named, and the Basic-encoding hint is not given', async () => {
    const app = await startSigninApp(idp, {
      options: {
        clientID: 'web-post',
        clientSecret: 'not-the-secret',
        clientAuthMethod: 'client_secret_post',
      },
    });
    try {
      const { result } = await loginAs(new TestBrowser(), app);
      const { message } = JSON.parse(result.body);
      expect(message).toContain('answered 401 "invalid_client"');
      expect(message).toContain(
        'client "web-post" authenticating with client_secret_post: check the client ID and secret registered at the IdP, ' +
          'and that the client is registered for client_secret_post',
      );
      expect(message).not.toContain('%2D');
      expectNothingSecret(app, ['not-the-secret', WEB_SECRET]);
    } finally {
      await app.close();
    }
  });

  test('PAR: the pushed authorization request endpoint is named with its answer', async () => {
    const app = await startSigninApp(idp, {
      options: { pushedAuthorizationRequests: true, clientSecret: 'wrong-secret-value' },
    });
    try {
      const res = await new TestBrowser().get(`${app.baseURL}/login`);
      expect(res.status).toBe(502);
      const { message } = JSON.parse(res.body);
      expect(message).toContain(
        `pushed authorization request failed: the pushed authorization request endpoint ${idp.issuer}/request answered 401 "invalid_client"`,
      );
      expect(message).toContain('authenticating with client_secret_basic');
      expectNothingSecret(app, ['wrong-secret-value']);
    } finally {
      await app.close();
    }
  });
});

describe('auth() against IdPs that answer oddly', () => {
  let odd: OddIdp;
  let rogue: RogueIdp;
  beforeAll(async () => {
    odd = await startOddIdp();
    rogue = await startRogueIdp();
  });
  afterAll(async () => {
    await odd.close();
    await rogue.close();
  });

  test('discovery 404 (an HTML page): check issuerBaseURL, and which URL answered 404', async () => {
    odd.answers.set('/.well-known/openid-configuration', { status: 404, body: '<h1>Not Found</h1>' });
    const app = await startSigninApp({ issuer: `${odd.url}/realms/typo` });
    try {
      const res = await new TestBrowser().get(`${app.baseURL}/login`);
      expect(res.status).toBe(503);
      const error = app.errors.at(-1)!;
      expect(error.code).toBe('ERR_DISCOVERY_FAILED');
      expect(error.message).toBe(
        `discovery failed: ${odd.url}/realms/typo/.well-known/openid-configuration answered 404 (text/html): ` +
          `check issuerBaseURL ("${odd.url}/realms/typo"): it must be the issuer's URL, under which the IdP publishes /.well-known/openid-configuration`,
      );
    } finally {
      await app.close();
      odd.answers.clear();
    }
  });

  test('a 403 HTML page from the token endpoint: its URL and status, not "content-type must be application/json"', async () => {
    const app = await startSigninApp(rogue, { options: { authorizationParams: { scope: 'openid' } } });
    try {
      const browser = new TestBrowser();
      const state = new URL((await browser.get(`${app.baseURL}/login`)).location!).searchParams.get('state')!;
      rogue.token = () => ({
        status: 403,
        body: '<html><body>Request blocked by the firewall</body></html>',
        headers: { 'content-type': 'text/html; charset=utf-8' },
      });
      const res = await browser.get(
        `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state, iss: rogue.issuer })}`,
      );
      expect(res.status).toBe(502);
      const { code, message } = JSON.parse(res.body);
      expect(code).toBe('ERR_OAUTH_RESPONSE');
      expect(message).toBe(
        `code exchange failed: the token endpoint ${rogue.issuer}/token answered 403 (text/html): this is no OAuth ` +
          'error from the IdP, but a refusal by something in front of it (a proxy, WAF or firewall) or the wrong URL: ' +
          "check the token_endpoint of the IdP's discovery document, and that this server may call it",
      );
      expect(message).not.toContain('content-type must be');
    } finally {
      await app.close();
    }
  });

  test('the JWKS for the ID token answers 404: a 503 naming the JWKS URL, not a bad ID token', async () => {
    const jwks = rogue.metadata['jwks_uri'];
    rogue.metadata['jwks_uri'] = `${rogue.issuer}/keys-moved`;
    const events: SigninEvent[] = [];
    const app = await startSigninApp(rogue, {
      options: { authorizationParams: { scope: 'openid' }, onEvent: (event) => events.push(event) },
    });
    try {
      const browser = new TestBrowser();
      const login = new URL((await browser.get(`${app.baseURL}/login`)).location!);
      const now = Math.floor(Date.now() / 1000);
      const nonce = login.searchParams.get('nonce')!;
      const idToken = await rogue.sign({
        iss: rogue.issuer,
        aud: 'web',
        sub: 'u1',
        nonce,
        iat: now,
        exp: now + 300,
      });
      rogue.token = () => ({
        status: 200,
        body: { access_token: 'at-1', token_type: 'Bearer', id_token: idToken },
      });
      const state = login.searchParams.get('state')!;
      const res = await browser.get(
        `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state, iss: rogue.issuer })}`,
      );
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toEqual({
        code: 'ERR_IDP_UNAVAILABLE',
        message:
          `JWKS fetch failed: the JWKS endpoint ${rogue.issuer}/keys-moved answered 404 (application/json): ` +
          "check the jwks_uri of the IdP's discovery document",
      });
      // The operator's event says so too.
      expect(events.filter((e) => e.type.startsWith('idp.jwks.'))).toEqual([
        {
          type: 'idp.jwks.failed',
          url: `${rogue.issuer}/keys-moved`,
          code: 'ERR_IDP_UNAVAILABLE',
          durationMs: expect.any(Number),
        },
      ]);
    } finally {
      rogue.metadata['jwks_uri'] = jwks;
      await app.close();
    }
  });

  test('userinfo refused: the endpoint, 401, the IdP\'s "invalid_token" and what to do', async () => {
    const app = await startSigninApp(rogue, { options: { authorizationParams: { scope: 'openid' } } });
    try {
      const browser = new TestBrowser();
      const login = new URL((await browser.get(`${app.baseURL}/login`)).location!);
      const now = Math.floor(Date.now() / 1000);
      const nonce = login.searchParams.get('nonce')!;
      const idToken = await rogue.sign({
        iss: rogue.issuer,
        aud: 'web',
        sub: 'u1',
        nonce,
        iat: now,
        exp: now + 300,
      });
      rogue.token = () => ({
        status: 200,
        body: {
          access_token: 'access-token-secret-42',
          token_type: 'Bearer',
          expires_in: 300,
          id_token: idToken,
        },
      });
      const state = login.searchParams.get('state')!;
      const signedIn = await browser.get(
        `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state, iss: rogue.issuer })}`,
      );
      expect(signedIn.status).toBe(302);
      rogue.userinfo = () => ({
        status: 401,
        body: { error: 'invalid_token', error_description: 'token revoked' },
      });
      const res = await browser.get(`${app.baseURL}/userinfo`);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body).message).toBe(
        `userinfo failed: the userinfo endpoint ${rogue.issuer}/userinfo answered 401 "invalid_token" (token revoked): ` +
          'the IdP refused the access token (expired, revoked, or issued for another resource: RFC 8707): refresh it or sign in again',
      );
      expectNothingSecret(app, ['access-token-secret-42', idToken]);
    } finally {
      await app.close();
    }
  });
});
