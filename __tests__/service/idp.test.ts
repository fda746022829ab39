import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inspect, promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import { OAuthResponseError, type ServiceAgentOptions, serviceAgent } from '../../lib/index.js';
import type { FetchLike } from '../../lib/protocol/http.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';

let idp: TestIdp;
const run = promisify(execFile);

beforeAll(async () => {
  idp = await startIdp();
});
afterAll(() => idp.close());

/** Counts the requests that reach the IdP's token endpoint. */
function countingFetch(): { fetch: FetchLike; tokenRequests: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      if (String(input instanceof Request ? input.url : input).endsWith('/token')) n++;
      return globalThis.fetch(input, init);
    },
    tokenRequests: () => n,
  };
}

function options(extra: ServiceAgentOptions = {}): ServiceAgentOptions {
  return {
    issuerBaseURL: idp.issuer,
    clientID: 'service',
    clientSecret: SERVICE_SECRET,
    resource: API_AUDIENCE,
    scope: 'orders:read orders:write',
    ...extra,
  };
}

describe('serviceAgent against oidc-provider', () => {
  test('client_secret_basic through discovery: a JWT access token for the resource', async () => {
    const agent = serviceAgent(options());
    const { access_token, scope, expires_at } = await agent.getToken();
    const claims = jose.decodeJwt(access_token);
    expect(claims.aud).toBe(API_AUDIENCE);
    expect(claims.client_id).toBe('service');
    expect(scope).toBe('orders:read orders:write');
    expect(expires_at * 1000).toBeGreaterThan(Date.now() + 3000_000);
    await agent.close();
  });

  test('private_key_jwt with a PEM or a JWK, with and without discovery', async () => {
    // A child process: see the fixture for why this one cannot run inside jest.
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      fileURLToPath(new URL('./fixtures/private-key-jwt.ts', import.meta.url)),
    ]);
    const results = JSON.parse(stdout) as Record<string, { claims: jose.JWTPayload; scope: string }>;
    for (const name of ['pem', 'jwk']) {
      expect(results[name]?.claims).toMatchObject({ client_id: 'service-jwt', aud: API_AUDIENCE });
      expect(results[name]?.scope).toBe('orders:read');
    }
  });

  test('200 concurrent callers on a cold cache → 1 token request', async () => {
    const counter = countingFetch();
    const agent = serviceAgent(options({ fetch: counter.fetch }));
    const results = await Promise.all(Array.from({ length: 200 }, () => agent.getToken()));
    expect(new Set(results.map((t) => t.access_token)).size).toBe(1);
    expect(counter.tokenRequests()).toBe(1);
    await agent.close();
  });

  test('short-lived tokens are renewed before they expire', async () => {
    // 2 s: oidc-provider's exp is counted from a floored iat, so a 1-second token may live only a few ms.
    idp.settings.accessTokenTTL = 2;
    try {
      const counter = countingFetch();
      const agent = serviceAgent(options({ fetch: counter.fetch }));
      const seen = new Set<string>();
      const until = Date.now() + 2200;
      while (Date.now() < until) {
        // Handed out before its expiry (measured at the call, so that a busy test machine cannot skew it).
        const before = Date.now();
        const { access_token, expires_at } = await agent.getToken();
        seen.add(access_token);
        const exp = (jose.decodeJwt(access_token).exp ?? 0) * 1000;
        expect(exp).toBeGreaterThan(before);
        expect(expires_at * 1000).toBeLessThanOrEqual(exp);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(seen.size).toBeGreaterThanOrEqual(2);
      await agent.close();
    } finally {
      idp.settings.accessTokenTTL = 3600;
    }
  });

  test('a wrong secret: invalid_client at once, with the IdP words and no secret', async () => {
    const counter = countingFetch();
    const agent = serviceAgent(options({ clientSecret: 'not-the-secret-0123456789', fetch: counter.fetch }));
    const err = (await agent.getToken().catch((e: unknown) => e)) as OAuthResponseError;
    expect(err).toBeInstanceOf(OAuthResponseError);
    expect(err.code).toBe('ERR_TOKEN_REQUEST_FAILED');
    expect(err.error).toBe('invalid_client');
    expect(typeof err.error_description).toBe('string');
    expect(counter.tokenRequests()).toBe(1);
    for (const text of [JSON.stringify(err), inspect(err, { showHidden: true, depth: 10 })]) {
      expect(text).not.toContain('not-the-secret-0123456789');
    }
    await agent.close();
  });

  test('the IdP down: the agent recovers on its own once it is back', async () => {
    const agent = serviceAgent(options({ retries: 0, httpTimeout: 500 }));
    await idp.stop();
    try {
      await expect(agent.getToken()).rejects.toMatchObject({ status: 503 });
    } finally {
      await idp.start();
    }
    // Discovery remembers a failure for 2 s; wait it out.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await expect(agent.getToken()).resolves.toMatchObject({ token_type: 'Bearer' });
    await agent.close();
  });
});
