/**
 * JAR (RFC 9101): `requestObject: true` sends the authorization request as one JWT signed with the
 * client's key, in the URL or inside the PAR body, and automatically when the IdP requires it; against
 * oidc-provider with `features.requestObjects`, which verifies the signature with the client's JWKS.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import type { errors, KoaContextWithOIDC } from 'oidc-provider';
import { type AuthOptions, auth } from '../../lib/index.js';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';
import { type SigninApp, startProvidersApp, startSigninApp, TestBrowser } from './harness.js';

let idp: TestIdp;
let required: TestIdp;
beforeAll(async () => {
  [idp, required] = await Promise.all([
    startIdp({ requestObjects: true }),
    startIdp({ requestObjects: 'required' }),
  ]);
});
afterAll(async () => {
  await Promise.all([idp.close(), required.close()]);
});

/** The `web-jwt` client (private_key_jwt): its key signs the client assertion and the request object. */
const jwtClient = (key = idp.clientKey.pem): Partial<AuthOptions> => ({
  clientID: 'web-jwt',
  clientSecret: undefined,
  clientAssertionSigningKey: key,
});

async function withApp(
  at: TestIdp,
  options: Partial<AuthOptions>,
  run: (app: SigninApp, pushed: URLSearchParams[]) => Promise<void>,
): Promise<void> {
  const pushed: URLSearchParams[] = [];
  const app = await startSigninApp(at, {
    options: {
      ...options,
      // Records what the app pushes to the PAR endpoint (the back channel the browser never sees).
      fetch: async (input, init) => {
        if (String(input).endsWith('/request')) pushed.push(new URLSearchParams(init?.body as string));
        return fetch(input, init);
      },
    },
  });
  try {
    await run(app, pushed);
  } finally {
    await app.close();
  }
}

/** Log in through the IdP's pages; the authorization URL the app sent the browser to, and the user. */
async function login(app: SigninApp, browser = new TestBrowser()) {
  const start = await browser.get(`${app.baseURL}/login?returnTo=/me`);
  expect(start.status).toBe(302);
  const url = new URL(start.location!);
  const { result } = await signInAtIdp(browser, start.location!);
  expect(result!.location).toBe(`${app.baseURL}/me`);
  const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
  return { url, me };
}

/** The claims of a request object, after checking its header says what it is and who signed it. */
function requestObjectClaims(request: string | null): jose.JWTPayload {
  expect(request).toEqual(expect.any(String));
  const header = jose.decodeProtectedHeader(request!);
  expect(header).toMatchObject({ typ: 'oauth-authz-req+jwt', alg: 'ES256' });
  return jose.decodeJwt(request!);
}

describe('requestObject: true', () => {
  test('the browser carries only client_id and a signed request object; the IdP verifies it and the login completes', async () => {
    await withApp(idp, { ...jwtClient(), requestObject: true }, async (app) => {
      const { url, me } = await login(app);
      expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request']);
      const claims = requestObjectClaims(url.searchParams.get('request'));
      expect(claims).toMatchObject({
        iss: 'web-jwt',
        aud: idp.issuer,
        client_id: 'web-jwt',
        response_type: 'code',
        redirect_uri: `${app.baseURL}/callback`,
        code_challenge_method: 'S256',
        scope: 'openid profile email offline_access',
      });
      for (const claim of ['state', 'nonce', 'code_challenge', 'jti', 'exp'] as const) {
        expect(claims[claim]).toBeDefined();
      }
      expect(me.user.sub).toBe('alice');
    });
  });

  test('the IdP checks the signature: a request object signed with a key it does not have is refused there', async () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const jwk = { ...(stranger.export({ format: 'jwk' }) as jose.JWK), kid: idp.clientKey.kid };
    // A secret authenticates the client, so that only the request object's key is wrong.
    const options = {
      clientID: 'web-post',
      clientSecret: WEB_SECRET,
      clientAuthMethod: 'client_secret_post',
      clientAssertionSigningKey: jwk,
      requestObject: true,
    } as const;
    const refused: errors.OIDCProviderError[] = [];
    const record = (_ctx: KoaContextWithOIDC, err: errors.OIDCProviderError) => {
      refused.push(err);
    };
    idp.provider.on('authorization.error', record);
    try {
      await withApp(idp, options, async (app) => {
        const browser = new TestBrowser();
        const start = await browser.get(`${app.baseURL}/login`);
        const atIdp = await browser.get(start.location!);
        // The IdP does not trust the redirect_uri of a request object it could not verify: its own page.
        expect(atIdp.status).toBe(400);
        expect(atIdp.location).toBeUndefined();
        expect(refused[0]).toMatchObject({
          error: 'invalid_request_object',
          error_detail: 'signature verification failed',
        });
      });
    } finally {
      idp.provider.off('authorization.error', record);
    }
  });

  test('a client that authenticates with a secret signs request objects with its clientAssertionSigningKey', async () => {
    const options = {
      clientID: 'web-post',
      clientSecret: WEB_SECRET,
      clientAuthMethod: 'client_secret_post',
      clientAssertionSigningKey: idp.clientKey.jwk,
      requestObject: true,
    } as const;
    await withApp(idp, options, async (app) => {
      const { url, me } = await login(app);
      expect(requestObjectClaims(url.searchParams.get('request')).iss).toBe('web-post');
      // A JWK key's kid names it to the IdP.
      expect(jose.decodeProtectedHeader(url.searchParams.get('request')!).kid).toBe(idp.clientKey.kid);
      expect(me.user.sub).toBe('alice');
    });
  });

  test('inside the PAR body: the push carries the request object and no loose parameter; the browser only a request_uri', async () => {
    const options = { ...jwtClient(), requestObject: true, pushedAuthorizationRequests: true };
    await withApp(idp, options, async (app, pushed) => {
      const { url, me } = await login(app);
      expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
      expect(pushed).toHaveLength(1);
      const body = pushed[0]!;
      const loose = [...body.keys()].filter((k) => !/^(client_id|request|client_assertion(_type)?)$/.test(k));
      expect(loose).toEqual([]);
      expect(requestObjectClaims(body.get('request')).redirect_uri).toBe(`${app.baseURL}/callback`);
      expect(me.user.sub).toBe('alice');
    });
  });
});

describe('automatic, when the IdP requires signed request objects', () => {
  test('premise: this IdP refuses a plain authorization request', async () => {
    required.allowApp('http://127.0.0.1:9');
    const url = new URL(`${required.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: 'web-jwt',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'http://127.0.0.1:9/callback',
    }).toString();
    const res = await new TestBrowser().get(url.href);
    const answer = new URL(res.location!).searchParams;
    expect(answer.get('error')).toBe('invalid_request');
    expect(answer.get('error_description')).toMatch(/Request Object must be used/);
  });

  test('a client with a key sends one without being told, and the login completes', async () => {
    await withApp(required, jwtClient(required.clientKey.pem), async (app) => {
      const { url, me } = await login(app);
      expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request']);
      expect(me.user.sub).toBe('alice');
    });
  });

  test('a client without a key gets a clear error naming the option, not a trip to an IdP error page', async () => {
    await withApp(required, {}, async (app) => {
      const res = await new TestBrowser().get(`${app.baseURL}/login`);
      expect(res.status).toBe(500);
      expect(res.location).toBeUndefined();
      const body = JSON.parse(res.body);
      expect(body.code).toBe('ERR_IDP_INCOMPATIBLE');
      expect(body.message).toBe(
        `the IdP ${required.issuer} requires signed request objects (require_signed_request_object, RFC 9101), but there is no private key to sign them: set "clientAssertionSigningKey" to the private key whose public key the IdP has for client "web"`,
      );
    });
  });
});

test('per provider: one provider sends request objects, the other plain requests', async () => {
  const app = await startProvidersApp(
    { signed: idp, plain: idp },
    {
      provider: (id) =>
        id === 'signed'
          ? {
              clientID: 'web-jwt',
              clientSecret: undefined,
              clientAssertionSigningKey: idp.clientKey.pem,
              requestObject: true,
            }
          : {},
    },
  );
  try {
    const browser = new TestBrowser();
    const plain = new URL((await browser.get(`${app.baseURL}/login?provider=plain`)).location!);
    expect(plain.searchParams.has('request')).toBe(false);
    expect(plain.searchParams.get('redirect_uri')).toBe(`${app.baseURL}/callback/plain`);
    const start = await browser.get(`${app.baseURL}/login?provider=signed&returnTo=/me`);
    const url = new URL(start.location!);
    expect(requestObjectClaims(url.searchParams.get('request')).redirect_uri).toBe(
      `${app.baseURL}/callback/signed`,
    );
    const { result } = await signInAtIdp(browser, start.location!, { callbackPath: '/callback/signed' });
    expect(result!.location).toBe(`${app.baseURL}/me`);
    expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).provider).toBe('signed');
  } finally {
    await app.close();
  }
});

describe('start-up', () => {
  const base = {
    issuerBaseURL: 'https://idp.example.com',
    baseURL: 'https://app.example.com',
    clientID: 'app',
  };

  test('requestObject without a key is a TypeError naming the option to set', () => {
    expect(() => auth({ ...base, clientSecret: 'secret', requestObject: true })).toThrow(
      new TypeError(
        '"requestObject" signs every authorization request with the client\'s private key: set "clientAssertionSigningKey" (or the CLIENT_ASSERTION_SIGNING_KEY environment variable) to the private key whose public key the IdP has for this client',
      ),
    );
  });

  test("a provider's requestObject, its own or auth()'s, needs that provider's key", () => {
    const providers = {
      corp: { issuerBaseURL: base.issuerBaseURL, clientID: 'app', clientSecret: 'secret' },
    };
    const message =
      '"providers.corp.requestObject" signs every authorization request with the client\'s private key: set "providers.corp.clientAssertionSigningKey" to the private key whose public key the IdP has for this client';
    expect(() => auth({ baseURL: base.baseURL, providers, requestObject: true })).toThrow(
      new TypeError(message),
    );
    expect(() =>
      auth({ baseURL: base.baseURL, providers: { corp: { ...providers.corp, requestObject: true } } }),
    ).toThrow(new TypeError(message));
  });

  test('a key that is no private key is named as clientAssertionSigningKey, whatever the auth method', () => {
    expect(() =>
      auth({
        ...base,
        clientSecret: 'secret',
        clientAuthMethod: 'client_secret_basic',
        clientAssertionSigningKey: 'not a key',
        requestObject: true,
      }),
    ).toThrow(
      new TypeError('"clientAssertionSigningKey" must be a private JWK, a PKCS#8 PEM or a private KeyObject'),
    );
  });

  test('REQUEST_OBJECT=true from the environment', () => {
    process.env['REQUEST_OBJECT'] = 'true';
    try {
      expect(() => auth({ ...base, clientSecret: 'secret' })).toThrow(/"requestObject" signs every/);
      expect(() => auth({ ...base, clientAssertionSigningKey: idp.clientKey.pem })).not.toThrow();
    } finally {
      delete process.env['REQUEST_OBJECT'];
    }
  });
});
