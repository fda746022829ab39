import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import {
  IdpUnavailableError,
  OAuthResponseError,
  type ServiceAgent,
  type ServiceAgentEvent,
  serviceAgent,
} from '../../lib/index.js';
import { retryAfterSeconds } from '../../lib/protocol/http.js';
import { CLIENT_ID, CLIENT_SECRET, startTokenServer, type TokenServer } from '../helpers/token-server.js';

let tokens: TokenServer;
const agents: ServiceAgent[] = [];
let events: ServiceAgentEvent[];
let logged: string[];

function agent(extra: Parameters<typeof serviceAgent>[0] = {}): ServiceAgent {
  events = [];
  logged = [];
  const a = serviceAgent({
    tokenEndpoint: tokens.tokenEndpoint,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    httpTimeout: 200,
    onEvent: (e) => events.push(e),
    logger: { warn: (_d, m) => logged.push(m) },
    ...extra,
  });
  agents.push(a);
  return a;
}

function expectNoSecrets(value: unknown, token?: string): void {
  for (const text of [JSON.stringify(value), inspect(value, { depth: 10, showHidden: true })]) {
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toContain(Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64'));
    if (token !== undefined) expect(text).not.toContain(token);
  }
}

beforeAll(async () => {
  tokens = await startTokenServer();
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  tokens.requests = 0;
  tokens.faults.length = 0;
  tokens.delayMs = 0;
});
afterAll(() => tokens.close());

describe('token endpoint failures', () => {
  test('5xx answers are retried with backoff, then the token comes', async () => {
    tokens.faults.push('500', '503-html');
    const token = await agent().getToken();
    expect(token.access_token).toMatch(/^tok-/);
    expect(tokens.requests).toBe(3);
    expect(
      events.filter((e) => e.type === 'agent.token.retrying').map((e) => (e as { attempt: number }).attempt),
    ).toEqual([1, 2]);
  });

  test('429 with Retry-After: the agent waits as long as asked, then gets its token', async () => {
    tokens.faults.push({ status: 429, retryAfter: '1' });
    const started = Date.now();
    const token = await agent().getToken();
    expect(token.access_token).toMatch(/^tok-/);
    expect(tokens.requests).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  test('429 asking for longer than the backoff cap: a 503 at once, carrying the IdP’s Retry-After', async () => {
    tokens.faults.push({ status: 429, retryAfter: '120' });
    const err = await agent()
      .getToken()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdpUnavailableError);
    expect(err).toMatchObject({ code: 'ERR_IDP_UNAVAILABLE', status: 503, retryAfter: 120 });
    expect(tokens.requests).toBe(1);
  });

  test('429 without Retry-After is retried with backoff, like a 5xx', async () => {
    tokens.faults.push({ status: 429 });
    await agent().getToken();
    expect(tokens.requests).toBe(2);
  });

  test('a reset connection is retried', async () => {
    tokens.faults.push('reset');
    await agent().getToken();
    expect(tokens.requests).toBe(2);
  });

  test('a stalled token endpoint times out per request and is retried', async () => {
    tokens.faults.push({ delayMs: 1000 });
    await agent({ httpTimeout: 100 }).getToken();
    expect(tokens.requests).toBe(2);
  });

  test('retries are bounded: after them the caller gets a 503 IdpUnavailableError', async () => {
    tokens.faults.push('500', '500', '500', '500');
    const err = await agent({ retries: 2 })
      .getToken()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdpUnavailableError);
    expect(err).toMatchObject({ code: 'ERR_IDP_UNAVAILABLE', status: 503 });
    expect(tokens.requests).toBe(3);
    expect(events.at(-1)).toMatchObject({ type: 'agent.token.failed', background: false });
    expectNoSecrets(err);
    expectNoSecrets(events);
  });

  test('invalid_client is surfaced at once with the IdP error, and no secret anywhere', async () => {
    const err = (await agent({ clientSecret: 'wrong-secret-value-0123456789' })
      .getToken()
      .catch((e: unknown) => e)) as OAuthResponseError;
    expect(err).toBeInstanceOf(OAuthResponseError);
    expect(err).toMatchObject({
      code: 'ERR_TOKEN_REQUEST_FAILED',
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
    expect(err.message).toContain(
      `token request failed: the token endpoint ${tokens.tokenEndpoint} answered 401 "invalid_client" (client authentication failed): ` +
        'the IdP did not accept client "svc" authenticating with client_secret_basic',
    );
    expect(err).toMatchObject({ idpUrl: tokens.tokenEndpoint, idpStatus: 401 });
    expect(tokens.requests).toBe(1);
    for (const value of [err, events, logged]) {
      expect(JSON.stringify(value)).not.toContain('wrong-secret-value');
      expect(inspect(value, { depth: 10, showHidden: true })).not.toContain('wrong-secret-value');
    }
  });

  test('other 4xx (invalid_scope) are not retried either', async () => {
    tokens.faults.push('invalid_scope');
    await expect(agent().getToken()).rejects.toMatchObject({
      error: 'invalid_scope',
      code: 'ERR_TOKEN_REQUEST_FAILED',
    });
    expect(tokens.requests).toBe(1);
  });

  test('concurrent callers share one failure, and the next call tries again', async () => {
    tokens.faults.push('invalid_client');
    const billing = agent();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => billing.getToken()));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(tokens.requests).toBe(1);
    await expect(billing.getToken()).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  test('a rotated secret is read on every token request', async () => {
    let secret = 'old-secret';
    const billing = agent({ clientSecret: async () => secret });
    await expect(billing.getToken()).rejects.toMatchObject({ error: 'invalid_client' });
    secret = CLIENT_SECRET;
    await expect(billing.getToken()).resolves.toMatchObject({ token_type: 'Bearer' });
  });

  test('client_secret_post sends the secret in the body', async () => {
    await agent({ clientAuthMethod: 'client_secret_post' }).getToken();
    expect(tokens.bodies.at(-1)!.get('client_id')).toBe(CLIENT_ID);
  });

  test('hook payloads and log lines hold no token or secret', async () => {
    tokens.faults.push('500');
    const billing = agent();
    const token = await billing.getToken();
    await billing.getToken();
    await billing.invalidate();
    await billing.getToken();
    expect(events.map((e) => e.type)).toEqual([
      'agent.cache.missed',
      'agent.token.retrying',
      'agent.token.fetched',
      'agent.cache.hit',
      'agent.cache.missed',
      'agent.token.fetched',
    ]);
    expectNoSecrets(events, token.access_token);
    expectNoSecrets(logged, token.access_token);
  });

  test('a throwing hook never breaks a call', async () => {
    const billing = agent({
      onEvent: () => {
        throw new Error('hook bug');
      },
    });
    await expect(billing.getToken()).resolves.toMatchObject({ token_type: 'Bearer' });
  });
});

describe('Retry-After (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  const headers = (value?: string) => new Headers(value === undefined ? {} : { 'retry-after': value });
  test.each([
    ['7', 7],
    ['0', 0],
    ['Wed, 25 Nov 2026 12:00:30 GMT', 30],
    ['Wed, 25 Nov 2026 11:00:00 GMT', 0], // in the past: now
    ['99999999', 3600], // capped
    ['soon', undefined],
    ['-5', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%p → %p seconds', (value, seconds) => {
    expect(retryAfterSeconds(headers(value), now)).toBe(seconds);
  });
});
