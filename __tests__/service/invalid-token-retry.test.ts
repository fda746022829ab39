import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import axios, { type AxiosError } from 'axios';
import { type ServiceAgent, type ServiceAgentEvent, serviceAgent } from '../../lib/index.js';
import { isInvalidTokenChallenge } from '../../lib/protocol/invalid-token-challenge.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type ResourceServer,
  startResourceServer,
  startTokenServer,
  type TokenServer,
} from '../helpers/token-server.js';
import { streamInit } from './fixtures/stream-body.js';

let tokens: TokenServer;
let api: ResourceServer;
let billing: ServiceAgent;
let events: ServiceAgentEvent[];

beforeAll(async () => {
  tokens = await startTokenServer();
  api = await startResourceServer(tokens);
});
beforeEach(() => {
  events = [];
  billing = serviceAgent({
    tokenEndpoint: tokens.tokenEndpoint,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    onEvent: (e) => events.push(e),
  });
});
afterEach(async () => {
  await billing.close();
  tokens.requests = 0;
  api.requests = 0;
  api.rejectNext = 0;
  api.alwaysReject = false;
  api.plainChallenge = false;
  api.authorizations.length = 0;
});
afterAll(async () => {
  await api.close();
  await tokens.close();
});

describe('a 401 invalid_token, with fetch', () => {
  test('one injected 401 → exactly one retry, with a new token', async () => {
    await billing.getToken();
    api.rejectNext = 1;
    const res = await billing.fetch(`${api.url}/orders`, { method: 'POST', body: JSON.stringify({ n: 1 }) });
    expect(res.status).toBe(200);
    expect(api.requests).toBe(2);
    expect(tokens.requests).toBe(2);
    expect(api.authorizations[0]).not.toBe(api.authorizations[1]);
    expect(api.bodies.slice(-2)).toEqual(['{"n":1}', '{"n":1}']);
    expect(events.filter((e) => e.type === 'agent.call.retried')).toHaveLength(1);
  });

  test('an always-401 resource → the caller gets the 401 after one retry, never a loop', async () => {
    api.alwaysReject = true;
    const res = await billing.fetch(`${api.url}/orders`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    expect(api.requests).toBe(2);
    expect(tokens.requests).toBe(2);
  });

  test('100 concurrent 401s for one token → one new token', async () => {
    api.revoked.add((await billing.getToken()).access_token);
    const answers = await Promise.all(Array.from({ length: 100 }, () => billing.fetch(`${api.url}/orders`)));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(tokens.requests).toBe(2);
  });

  test('a 401 without invalid_token is not retried', async () => {
    api.plainChallenge = true;
    const res = await billing.fetch(`${api.url}/orders`);
    expect(res.status).toBe(401);
    expect(api.requests).toBe(1);
  });

  test('a stream body is never replayed: its 401 goes back to the caller', async () => {
    api.rejectNext = 1;
    const res = await billing.fetch(`${api.url}/upload`, streamInit('POST', 'streamed'));
    expect(res.status).toBe(401);
    expect(api.requests).toBe(1);
  });

  test('keeps the Request object, its method and headers', async () => {
    const res = await billing.fetch(
      new Request(`${api.url}/r`, { method: 'DELETE', headers: { 'x-trace': '1' } }),
    );
    expect(res.status).toBe(200);
    expect(api.authorizations.at(-1)).toMatch(/^Bearer tok-/);
  });
});

describe('a 401 invalid_token, with axios', () => {
  test('one injected 401 → exactly one retry, with a new token and the same body', async () => {
    const client = billing.attach(axios.create({ baseURL: api.url }));
    await billing.getToken();
    api.rejectNext = 1;
    const res = await client.post('/orders', { n: 2 });
    expect(res.status).toBe(200);
    expect(api.requests).toBe(2);
    expect(tokens.requests).toBe(2);
    expect(api.bodies.slice(-2)).toEqual(['{"n":2}', '{"n":2}']);
  });

  test('an always-401 resource → the caller gets the 401 after one retry', async () => {
    const client = billing.attach(axios.create({ baseURL: api.url }));
    api.alwaysReject = true;
    const err = (await client.get('/orders').catch((e: unknown) => e)) as AxiosError;
    expect(err.response?.status).toBe(401);
    expect(api.requests).toBe(2);
  });

  test('also under a validateStatus that accepts 401', async () => {
    const client = billing.attach(axios.create({ baseURL: api.url, validateStatus: () => true }));
    api.rejectNext = 1;
    expect((await client.get('/orders')).status).toBe(200);
    api.alwaysReject = true;
    api.requests = 0;
    expect((await client.get('/orders')).status).toBe(401);
    expect(api.requests).toBe(2);
  });

  test('a stream body is never replayed', async () => {
    const client = billing.attach(axios.create({ baseURL: api.url }));
    api.rejectNext = 1;
    const err = (await client.post('/upload', Readable.from(['x'])).catch((e: unknown) => e)) as AxiosError;
    expect(err.response?.status).toBe(401);
    expect(api.requests).toBe(1);
  });

  test('only the attached instance carries the token', async () => {
    billing.attach(axios.create({ baseURL: api.url }));
    const other = axios.create({ baseURL: api.url, validateStatus: () => true });
    await other.get('/x');
    await axios.get(`${api.url}/x`, { validateStatus: () => true });
    expect(api.authorizations).toEqual(['', '']);
  });

  test('attach() refuses what is not an axios instance', () => {
    expect(() => billing.attach({} as never)).toThrow(
      new TypeError('attach() expects an axios instance, such as axios.create()'),
    );
  });
});

describe('isInvalidTokenChallenge', () => {
  test.each([
    [401, 'Bearer error="invalid_token"', true],
    [401, 'Bearer realm="x", error=invalid_token, error_description="expired"', true],
    [401, 'DPoP algs="ES256", Bearer ERROR="invalid_token"', true],
    [401, ['Basic realm="x"', 'Bearer error="invalid_token"'], true],
    [401, 'Bearer error="invalid_token_type"', false],
    [401, 'Bearer realm="api"', false],
    [401, 'Bearer error="insufficient_scope"', false],
    [403, 'Bearer error="invalid_token"', false],
    [401, undefined, false],
  ])('%i %j → %s', (status, header, expected) => {
    expect(isInvalidTokenChallenge(status, header)).toBe(expected);
  });
});
