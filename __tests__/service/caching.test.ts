import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type { ServiceAgentEvent } from '../../lib/index.js';
import {
  type ResourceServer,
  startResourceServer,
  startTokenServer,
  type TokenServer,
} from '../helpers/token-server.js';
import { agentsOn } from './fixtures/agents.js';

let tokens: TokenServer;
let api: ResourceServer;
const { agent, closeAgents } = agentsOn(() => tokens);

beforeAll(async () => {
  tokens = await startTokenServer();
  api = await startResourceServer(tokens);
});
afterEach(async () => {
  await closeAgents();
  tokens.requests = 0;
  tokens.expiresIn = 3600;
  tokens.delayMs = 0;
  api.valid = api.expired = api.unknown = api.requests = 0;
});
afterAll(async () => {
  await api.close();
  await tokens.close();
});

describe('serviceAgent caching', () => {
  test('200 concurrent calls on a cold cache make 1 token request', async () => {
    tokens.delayMs = 30; // keep the first request in flight while the others arrive
    const billing = agent();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => billing.fetch(`${api.url}/invoices`)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(tokens.requests).toBe(1);
  });

  test('1,000 calls within a token lifetime make 1 token request', async () => {
    const billing = agent();
    for (let wave = 0; wave < 10; wave++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => billing.fetch(`${api.url}/x`)));
      expect(answers.every((r) => r.status === 200)).toBe(true);
    }
    expect(tokens.requests).toBe(1);
    expect(api.valid).toBe(1000);
  });

  test('calls across expiry of 2-second tokens never send an expired token', async () => {
    tokens.expiresIn = 2;
    const events: ServiceAgentEvent['type'][] = [];
    const billing = agent({ onEvent: (e) => events.push(e.type) });
    const statuses: number[] = [];
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      const batch = await Promise.all(Array.from({ length: 5 }, () => billing.fetch(`${api.url}/x`)));
      statuses.push(...batch.map((r) => r.status));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(api.expired).toBe(0);
    // Refreshed ahead in the background: about one request per lifetime, not one per call.
    expect(tokens.requests).toBeGreaterThanOrEqual(2);
    expect(tokens.requests).toBeLessThanOrEqual(3);
    expect(events).toContain('agent.token.refreshed');
  });

  test('a background refresh does not hold up callers', async () => {
    tokens.expiresIn = 1;
    let refreshed: (() => void) | undefined;
    const done = new Promise<void>((resolve) => {
      refreshed = resolve;
    });
    // Refresh once 10% of the lifetime is used, so that the test need not wait long.
    const billing = agent({
      refreshRatio: 0.1,
      onEvent: (e) => e.type === 'agent.token.refreshed' && refreshed?.(),
    });
    const first = await billing.getToken();
    await new Promise((resolve) => setTimeout(resolve, 150));
    tokens.delayMs = 200;
    // Served at once with the current token while the new one is on its way.
    expect((await billing.getToken()).access_token).toBe(first.access_token);
    await done;
    expect(tokens.requests).toBe(2);
    expect((await billing.getToken()).access_token).not.toBe(first.access_token);
  });

  test('invalidate() drops the token: the next call fetches a new one', async () => {
    const billing = agent();
    const first = await billing.getToken();
    await billing.invalidate();
    const second = await billing.getToken();
    expect(second.access_token).not.toBe(first.access_token);
    expect(tokens.requests).toBe(2);
  });

  test('getToken() returns the token with its expiry and scope; close() stops the agent', async () => {
    const billing = agent({ scope: ['orders:write', 'orders:read'] });
    const token = await billing.getToken();
    expect(token).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_at: expect.any(Number),
      scope: 'orders:read orders:write',
    });
    await billing.close();
    await expect(billing.getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REQUEST_FAILED' });
  });

  test('sends scope, audience, resource and extra parameters', async () => {
    const billing = agent({
      scope: 'a b',
      audience: 'https://billing.example.test',
      resource: ['https://r2.example.test', 'https://r1.example.test'],
      tokenParams: { organization: 'org_1' },
    });
    await billing.getToken();
    const body = tokens.bodies.at(-1)!;
    expect(body.get('grant_type')).toBe('client_credentials');
    expect(body.get('scope')).toBe('a b');
    expect(body.get('audience')).toBe('https://billing.example.test');
    expect(body.getAll('resource')).toEqual(['https://r1.example.test', 'https://r2.example.test']);
    expect(body.get('organization')).toBe('org_1');
  });
});
