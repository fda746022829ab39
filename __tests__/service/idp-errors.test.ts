/**
 * What a serviceAgent() caller learns when the token endpoint or discovery fails: the URL, the status,
 * the IdP's own error, and for `invalid_client` the authentication method used and what to check.
 * oidc-provider for real refusals; an IdP of our own for a 403 HTML page and a 404 discovery.
 */
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  OAuthResponseError,
  PortcullisError,
  type ServiceAgentOptions,
  serviceAgent,
} from '../../lib/index.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';
import { type OddIdp, startOddIdp } from '../helpers/odd-idp.js';

/** The error of a first getToken(), after which the agent is closed. */
async function failure(options: ServiceAgentOptions): Promise<PortcullisError> {
  const agent = serviceAgent({ retries: 0, ...options });
  try {
    const err = await agent.getToken().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PortcullisError);
    return err as PortcullisError;
  } finally {
    await agent.close();
  }
}

function expectNoneOf(err: unknown, secrets: string[]): void {
  const texts = [JSON.stringify(err), inspect(err), inspect(err, { showHidden: true, depth: 10 })];
  for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('serviceAgent() against oidc-provider: invalid_client', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startIdp();
  });
  afterAll(() => idp.close());

  const base = (): ServiceAgentOptions => ({
    issuerBaseURL: idp.issuer,
    clientID: 'service',
    resource: API_AUDIENCE,
  });

  test('client_secret_basic: which method, what to check, and the form-encoding of the Basic header', async () => {
    const wrong = 'wrong-secret.with-dashes-0123456789';
    const err = (await failure({ ...base(), clientSecret: wrong })) as OAuthResponseError;
    expect(err).toBeInstanceOf(OAuthResponseError);
    expect(err).toMatchObject({
      code: 'ERR_TOKEN_REQUEST_FAILED',
      error: 'invalid_client',
      idpUrl: `${idp.issuer}/token`,
      idpStatus: 401,
    });
    expect(err.message).toContain(
      `token request failed: the token endpoint ${idp.issuer}/token answered 401 "invalid_client"`,
    );
    expect(err.message).toContain(
      'the IdP did not accept client "service" authenticating with client_secret_basic: check the client ID and secret ' +
        'registered at the IdP, and that the client is registered for client_secret_basic; with client_secret_basic ' +
        'the ID and secret are form-encoded in the Basic header (RFC 6749 §2.3.1: "-" becomes "%2D", "." becomes "%2E"), ' +
        "which some IdPs never decode; clientAuthMethod: 'client_secret_post' avoids it",
    );
    // Neither the secret nor its form-encoded or base64 forms.
    const encoded = 'wrong%2Dsecret%2Ewith%2Ddashes%2D0123456789';
    expectNoneOf(err, [wrong, encoded, Buffer.from(`service:${encoded}`).toString('base64')]);
  });

  test('client_secret_post with a wrong secret: the method used is named, without the Basic hint', async () => {
    const err = await failure({
      ...base(),
      clientSecret: 'not-the-secret',
      clientAuthMethod: 'client_secret_post',
    });
    expect(err.message).toContain('answered 401 "invalid_client"');
    expect(err.message).toContain(
      'client "service" authenticating with client_secret_post: check the client ID and secret registered at the IdP, ' +
        'and that the client is registered for client_secret_post',
    );
    expect(err.message).not.toContain('%2D');
    expectNoneOf(err, ['not-the-secret', SERVICE_SECRET]);
  });

  test('private_key_jwt with a key the IdP does not know: the key, its registration and the clock', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const err = await failure({ ...base(), clientID: 'service-jwt', clientAssertionSigningKey: pem });
    expect(err.message).toContain('answered 401 "invalid_client"');
    expect(err.message).toContain(
      'client "service-jwt" authenticating with private_key_jwt: check the client ID, that the IdP has the public key ' +
        'of clientAssertionSigningKey (its kid and alg) for this client',
    );
    expectNoneOf(err, [pem.split('\n')[1]!]);
  });
});

describe('serviceAgent() against an IdP that answers oddly', () => {
  let odd: OddIdp;
  beforeAll(async () => {
    odd = await startOddIdp();
  });
  afterAll(() => odd.close());

  test('a 403 HTML page from the token endpoint: its URL and status, surfaced at once, not retried', async () => {
    odd.answers.set('/token', { status: 403, body: '<html>Access denied by policy</html>' });
    const before = odd.requests.length;
    const err = await failure({
      tokenEndpoint: `${odd.url}/token`,
      clientID: 'svc',
      clientSecret: 'svc-secret-0123456789',
      retries: 2,
    });
    expect(err).toMatchObject({ code: 'ERR_TOKEN_REQUEST_FAILED', status: 502, idpStatus: 403 });
    expect(err.message).toBe(
      `token request failed: the token endpoint ${odd.url}/token answered 403 (text/html): this is no OAuth error ` +
        'from the IdP, but a refusal by something in front of it (a proxy, WAF or firewall) or the wrong URL: ' +
        "check the token_endpoint of the IdP's discovery document, and that this server may call it",
    );
    expect(odd.requests.length - before).toBe(1);
    expectNoneOf(err, ['svc-secret-0123456789']);
    odd.answers.clear();
  });

  test('discovery 404: check issuerBaseURL, naming the URL that answered 404', async () => {
    odd.answers.set('/.well-known/openid-configuration', { status: 404, body: '<h1>Not Found</h1>' });
    const err = await failure({
      issuerBaseURL: odd.url,
      clientID: 'svc',
      clientSecret: 'svc-secret-0123456789',
    });
    expect(err).toMatchObject({ code: 'ERR_DISCOVERY_FAILED', status: 503, idpStatus: 404 });
    expect(err.message).toContain(
      `discovery failed: ${odd.url}/.well-known/openid-configuration answered 404 (text/html): check issuerBaseURL`,
    );
    odd.answers.clear();
  });
});
