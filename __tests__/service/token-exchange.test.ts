/**
 * RFC 8693 on-behalf-of calls: onBehalfOf(subjectToken) gets tokens from the token-exchange grant,
 * cached per subject token (one request for many calls and concurrent callers), sent by fetch.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { serviceAgent } from '../../lib/index.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';

let rogue: RogueIdp;
const exchanges: URLSearchParams[] = [];
beforeAll(async () => {
  rogue = await startRogueIdp();
  rogue.token = (form) => {
    exchanges.push(form);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange') {
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    }
    return {
      status: 200,
      body: {
        access_token: `downstream-for-${form.get('subject_token')}-${exchanges.length}`,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: 300,
      },
    };
  };
});
afterAll(() => rogue.close());

const agent = () =>
  serviceAgent({
    tokenEndpoint: `${rogue.issuer}/token`,
    clientID: 'orders-service',
    clientSecret: 'orders-secret-0123456789',
    audience: 'https://ledger.example.test',
    tokenExchange: true,
  });

test('one exchange per subject token, shared by concurrent callers, with the RFC 8693 parameters', async () => {
  const orders = agent();
  try {
    const before = exchanges.length;
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => orders.onBehalfOf('user-token-A').getToken()),
    );
    expect(new Set(tokens.map((t) => t.access_token)).size).toBe(1);
    expect(exchanges.length).toBe(before + 1);
    const form = exchanges.at(-1)!;
    expect(form.get('subject_token')).toBe('user-token-A');
    expect(form.get('subject_token_type')).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(form.get('audience')).toBe('https://ledger.example.test');
    // Another user's token is exchanged separately; the first stays cached.
    const b = await orders.onBehalfOf('user-token-B').getToken();
    expect(b.access_token).toContain('user-token-B');
    await orders.onBehalfOf('user-token-A').getToken();
    expect(exchanges.length).toBe(before + 2);
  } finally {
    await orders.close();
  }
});

test('fetch sends the exchanged token', async () => {
  const orders = agent();
  try {
    let seen: string | undefined;
    rogue.userinfo = (authorization) => {
      seen = authorization;
      return { status: 200, body: { ok: true } };
    };
    const res = await orders.onBehalfOf('user-token-C').fetch(`${rogue.issuer}/userinfo`);
    expect(res.status).toBe(200);
    expect(seen).toMatch(/^Bearer downstream-for-user-token-C-/);
  } finally {
    await orders.close();
  }
});

test('onBehalfOf() without tokenExchange, or without a subject token, is a TypeError', async () => {
  const plain = serviceAgent({ tokenEndpoint: `${rogue.issuer}/token`, clientID: 'x', clientSecret: 'y' });
  expect(() => plain.onBehalfOf('t')).toThrow('onBehalfOf() needs serviceAgent({ tokenExchange: true })');
  expect(() => agent().onBehalfOf('')).toThrow(TypeError);
  await plain.close();
});

test("a refused exchange surfaces the IdP's error, without the subject token", async () => {
  const orders = agent();
  const saved = rogue.token;
  rogue.token = () => ({
    status: 400,
    body: { error: 'invalid_grant', error_description: 'subject token expired' },
  });
  try {
    const err = await orders
      .onBehalfOf('secret-user-token')
      .getToken()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_TOKEN_REQUEST_FAILED', error: 'invalid_grant' });
    expect(JSON.stringify(err)).not.toContain('secret-user-token');
  } finally {
    rogue.token = saved;
    await orders.close();
  }
});
