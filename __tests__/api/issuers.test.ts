/**
 * bearer({ issuers }): one API, tokens from several IdPs (two real oidc-provider instances, and
 * issuers of our own for what they will not do). The token's `iss` picks the issuer before any
 * network call: every outbound request goes through a counting `fetch`, so "nothing was fetched" is
 * an observation, not an assumption.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { type BearerOptions, bearer } from '../../lib/index.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';
import { buildApp } from './app.js';

let idpA: TestIdp;
let idpB: TestIdp;
let attacker: KeyServer;

beforeAll(async () => {
  [idpA, idpB, attacker] = await Promise.all([startIdp(), startIdp(), startKeyServer()]);
});
afterAll(async () => {
  await Promise.all([idpA.close(), idpB.close(), attacker.close()]);
});

/** A fetch that records every URL `bearer()` asks for. */
function countingFetch(): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    fetch: (input, init) => {
      urls.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    },
  };
}

async function clientCredentials(idp: TestIdp, resource = API_AUDIENCE): Promise<string> {
  const res = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`service:${SERVICE_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (body.access_token === undefined) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

function appWith(options: BearerOptions) {
  const app = buildApp('express5', options);
  app.get('/api/issuer', (req, res) => {
    res.json({ issuer: req.auth?.issuer, sub: req.auth?.payload.sub });
  });
  return app;
}

const call = (app: ReturnType<typeof appWith>, token: string, path = '/api/issuer') =>
  request(app).get(path).set('authorization', `Bearer ${token}`);

describe('tokens from two IdPs, one API', () => {
  test("each IdP's token passes, and req.auth.issuer names the issuer that vouched for it", async () => {
    const counting = countingFetch();
    const app = appWith({
      issuers: [{ issuerBaseURL: idpA.issuer }, { issuerBaseURL: idpB.issuer }],
      audience: API_AUDIENCE,
      fetch: counting.fetch,
    });
    const fromA = await call(app, await clientCredentials(idpA));
    expect(fromA.status).toBe(200);
    expect(fromA.body.issuer).toBe(idpA.issuer);
    // Only A was asked so far: B's discovery and keys wait for B's first token.
    expect(counting.urls.every((url) => url.startsWith(idpA.issuer))).toBe(true);
    const fromB = await call(app, await clientCredentials(idpB));
    expect(fromB.status).toBe(200);
    expect(fromB.body.issuer).toBe(idpB.issuer);
    expect(counting.urls.some((url) => url.startsWith(idpB.issuer))).toBe(true);
  });

  test('a token from B, at an API that allows only A, is refused without any request to B', async () => {
    const tokenB = await clientCredentials(idpB);
    for (const options of [
      { issuers: [{ issuerBaseURL: idpA.issuer }] },
      { issuerBaseURL: idpA.issuer },
    ] as BearerOptions[]) {
      const counting = countingFetch();
      const app = appWith({ ...options, audience: API_AUDIENCE, fetch: counting.fetch });
      const res = await call(app, tokenB);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expect(res.body.error_description).toMatch(/"iss"/);
      expect(counting.urls.filter((url) => url.startsWith(idpB.issuer))).toEqual([]);
    }
  });

  test("a token whose iss is an attacker's URL makes no request at all, not even to the attacker", async () => {
    const counting = countingFetch();
    const app = appWith({
      issuers: [{ issuerBaseURL: idpA.issuer }, { issuerBaseURL: idpB.issuer }],
      audience: API_AUDIENCE,
      fetch: counting.fetch,
    });
    const forged = await attacker.token(
      { iss: attacker.issuer, aud: API_AUDIENCE },
      { jku: attacker.jwksUri, x5u: `${attacker.issuer}/x5u` },
    );
    const res = await call(app, forged);
    expect(res.status).toBe(401);
    expect(counting.urls).toEqual([]);
    expect(attacker.jwksHits).toBe(0);
    expect(attacker.otherHits).toEqual([]);
  });

  test('each issuer has its own audience', async () => {
    const app = appWith({
      issuers: [
        { issuerBaseURL: idpA.issuer, audience: API_AUDIENCE },
        { issuerBaseURL: idpB.issuer, audience: 'https://b-only.example.test' },
      ],
    });
    expect((await call(app, await clientCredentials(idpA))).status).toBe(200);
    const fromB = await call(app, await clientCredentials(idpB));
    expect(fromB.status).toBe(401);
    expect(fromB.body.error_description).toMatch(/"aud"/);
  });

  test('ISSUER_BASE_URL in the environment (set for sign-in) joins no issuers list', async () => {
    const counting = countingFetch();
    process.env['ISSUER_BASE_URL'] = idpB.issuer;
    try {
      const app = appWith({
        issuers: [{ issuerBaseURL: idpA.issuer }],
        audience: API_AUDIENCE,
        fetch: counting.fetch,
      });
      expect((await call(app, await clientCredentials(idpB))).status).toBe(401);
      expect(counting.urls).toEqual([]);
    } finally {
      delete process.env['ISSUER_BASE_URL'];
    }
  });
});

describe('each issuer has its own JWKS cache and cooldown', () => {
  let one: KeyServer;
  let two: KeyServer;
  beforeAll(async () => {
    [one, two] = await Promise.all([startKeyServer(), startKeyServer()]);
  });
  afterAll(async () => {
    await Promise.all([one.close(), two.close()]);
  });

  test("junk kids at one issuer use up its cooldown, not the other's", async () => {
    const app = appWith({
      issuers: [
        { issuer: one.issuer, jwksUri: one.jwksUri },
        { issuer: two.issuer, jwksUri: two.jwksUri },
      ],
      audience: AUDIENCE,
      jwksCooldown: 1,
    });
    expect((await call(app, await one.token(), '/api/me')).status).toBe(200);
    expect((await call(app, await two.token(), '/api/me')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // both cooldowns are over
    const [hitsOne, hitsTwo] = [one.jwksHits, two.jwksHits];
    // Junk kids at `one`: one refetch, then refused unread within its new cooldown.
    for (let i = 0; i < 5; i++) {
      const junk = await one.token({}, { kid: `junk-${i}` });
      expect((await call(app, junk, '/api/me')).status).toBe(401);
    }
    expect(one.jwksHits).toBe(hitsOne + 1);
    // Meanwhile `two` rotates its key: its new kid still refetches at once, its cooldown untouched.
    two.rotate();
    expect((await call(app, await two.token(), '/api/me')).status).toBe(200);
    expect(two.jwksHits).toBe(hitsTwo + 1);
  });
});

describe('issuers: configuration errors at start-up', () => {
  test.each<[string, BearerOptions, string]>([
    [
      'issuers beside issuerBaseURL',
      {
        issuers: [{ issuerBaseURL: 'https://a.example' }],
        issuerBaseURL: 'https://b.example',
        audience: 'api',
      },
      '"issuers" and "issuerBaseURL" cannot be combined: give each IdP its own entry in "issuers"',
    ],
    [
      'an empty list',
      { issuers: [], audience: 'api' },
      '"issuers" must be a non-empty list of issuers ({ issuerBaseURL, audience })',
    ],
    [
      'an entry without an issuer',
      { issuers: [{ audience: 'api' }] },
      '"issuers[0].issuerBaseURL" (or "issuers[0].issuer" with "issuers[0].jwksUri") is required',
    ],
    [
      'an entry without an audience, and none at the top',
      { issuers: [{ issuerBaseURL: 'https://a.example' }] },
      '"issuers[0].audience" is required (or a top-level "audience", or the AUDIENCE environment variable)',
    ],
    [
      'two entries for one IdP',
      {
        issuers: [{ issuerBaseURL: 'https://a.example' }, { issuerBaseURL: 'https://a.example/' }],
        audience: 'api',
      },
      '"issuers[1]" names the same issuer as "issuers[0]" (https://a.example/)',
    ],
    [
      'a misspelt option in an entry',
      { issuers: [{ issuerBaseURL: 'https://a.example', audiance: 'api' } as never], audience: 'api' },
      'bearer() has no option "issuers[0].audiance"; did you mean "issuers[0].audience"?',
    ],
    [
      'an entry over plain http to a public host',
      { issuers: [{ issuerBaseURL: 'http://a.example' }], audience: 'api' },
      '"issuers[0].issuerBaseURL" must use https; plain http is allowed only for loopback hosts or with "allowInsecureHttp"',
    ],
    [
      'introspection (an opaque token has no iss to choose an issuer by)',
      { issuers: [{ issuerBaseURL: 'https://a.example' }], audience: 'api', introspection: true },
      '"issuers" and "introspection" cannot be combined: give each IdP its own entry in "issuers"',
    ],
  ])('%s', (_name, options, message) => {
    expect(() => bearer(options)).toThrow(new TypeError(message));
  });
});
