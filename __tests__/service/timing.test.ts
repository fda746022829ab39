import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { serviceAgent } from '../../lib/index.js';
import { backoffDelay, withBackoff } from '../../lib/protocol/backoff.js';
import { cacheTtlSeconds, tokenTiming } from '../../lib/service/token-timing.js';
import { CLIENT_ID, CLIENT_SECRET, startTokenServer, type TokenServer } from '../helpers/token-server.js';

const token = (lifetimeMs: number) => ({
  access_token: 't',
  token_type: 'Bearer',
  issued_at: 1_000_000,
  expires_at: 1_000_000 + lifetimeMs,
});

describe('tokenTiming', () => {
  test('a 2-second token: refresh after 1.6 s, never sent after 1.8 s', () => {
    expect(tokenTiming(token(2000), 0.8, 30_000)).toEqual({ refreshAt: 1_001_600, useUntil: 1_001_800 });
  });

  test('a 1-hour token: refresh after 48 min, never sent in its last 30 s', () => {
    expect(tokenTiming(token(3_600_000), 0.8, 30_000)).toEqual({
      refreshAt: 1_000_000 + 2_880_000,
      useUntil: 1_000_000 + 3_570_000,
    });
  });

  test('the refresh point never comes after the last moment of use', () => {
    const { refreshAt, useUntil } = tokenTiming(token(2000), 0.95, 30_000);
    expect(refreshAt).toBe(useUntil);
  });

  test('an entry that claims expiry before issue is never usable', () => {
    const { useUntil } = tokenTiming({ ...token(0), expires_at: 999_000 }, 0.8, 30_000);
    expect(useUntil).toBe(999_000);
  });

  test('a shared cache keeps the entry until expiry, at least a second', () => {
    expect(cacheTtlSeconds(token(2500), 1_000_000)).toBe(3);
    expect(cacheTtlSeconds(token(10), 1_000_000)).toBe(1);
  });
});

describe('backoff', () => {
  test('full jitter below an exponential, capped bound', () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const delay = backoffDelay(attempt, 100, 2000);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(2000, 100 * 2 ** attempt));
    }
  });

  test('stops at once on an error that is not retryable, and after `retries` otherwise', async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw new Error('x');
    };
    await expect(withBackoff(fail, { retries: 3, base: 1, retryable: () => false })).rejects.toThrow('x');
    expect(calls).toBe(1);
    calls = 0;
    await expect(withBackoff(fail, { retries: 3, base: 1, retryable: () => true })).rejects.toThrow('x');
    expect(calls).toBe(4);
  });
});

describe('a failing background refresh', () => {
  let tokens: TokenServer;
  beforeAll(async () => {
    tokens = await startTokenServer({ expiresIn: 2 });
  });
  afterAll(() => tokens.close());

  test('keeps serving the current token while it is usable, and reports the failure', async () => {
    const failures: boolean[] = [];
    let failed: () => void = () => undefined;
    const failure = new Promise<void>((resolve) => {
      failed = resolve;
    });
    const agent = serviceAgent({
      tokenEndpoint: tokens.tokenEndpoint,
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      refreshRatio: 0.1,
      onEvent: (e) => {
        if (e.type !== 'agent.token.failed') return;
        failures.push(e.background);
        failed();
      },
    });
    const first = await agent.getToken();
    await new Promise((resolve) => setTimeout(resolve, 250)); // past the refresh point (0.2 s)
    tokens.faults.push('invalid_client');
    expect((await agent.getToken()).access_token).toBe(first.access_token); // starts the refresh
    await failure;
    expect((await agent.getToken()).access_token).toBe(first.access_token); // still served
    expect(failures).toEqual([true]);
    await agent.close();
  });
});
