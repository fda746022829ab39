/**
 * Calls with DPoP-bound tokens (RFC 9449 §7, §9): fetch and axios send `Authorization: DPoP` and a
 * fresh proof per call, checked by a resource server of our own with jose; a resource server's nonce
 * challenge costs exactly one retry, and a server that never stops asking gets exactly one.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import axios, { type AxiosError } from 'axios';
import { type ServiceAgent, type ServiceAgentEvent, serviceAgent } from '../../lib/index.js';
import { accessTokenHash } from '../../lib/protocol/dpop/jwk.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';
import { type DpopResourceServer, startDpopResourceServer } from './fixtures/dpop-resource-server.js';
import { streamInit } from './fixtures/stream-body.js';

let idp: TestIdp;
let api: DpopResourceServer;
let agent: ServiceAgent;
let events: ServiceAgentEvent[];

beforeAll(async () => {
  idp = await startIdp();
  api = await startDpopResourceServer();
});
beforeEach(() => {
  events = [];
  agent = serviceAgent({
    issuerBaseURL: idp.issuer,
    clientID: 'service',
    clientSecret: SERVICE_SECRET,
    resource: API_AUDIENCE,
    dpop: true,
    onEvent: (e) => events.push(e),
  });
});
afterEach(async () => {
  await agent.close();
  api.calls.length = 0;
  api.nonceMode = 'off';
  api.advertise = false;
  api.rejectNext = 0;
});
afterAll(async () => {
  await api.close();
  await idp.close();
});

const retries = (reason: string) =>
  events.filter((e) => e.type === 'agent.call.retried' && e.reason === reason).length;

/** Each call: DPoP scheme, a valid proof for its own method and URL, and a jti never used before. */
async function expectFreshProofs(method: string, path: string): Promise<void> {
  const { access_token } = await agent.getToken();
  expect(api.calls.map((c) => c.verdict)).toEqual(['ok', 'ok']);
  for (const call of api.calls) {
    expect(call.authorization).toBe(`DPoP ${access_token}`);
    expect(call.proof).toMatchObject({
      htm: method,
      htu: `${api.url}${path}`,
      ath: accessTokenHash(access_token),
    });
  }
  expect(api.calls[0]!.proof!.jti).not.toBe(api.calls[1]!.proof!.jti);
}

describe('fetch', () => {
  test('DPoP scheme and a fresh proof per call; htu without the query', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await agent.fetch(`${api.url}/entries?page=${i}#top`, { method: 'POST', body: 'x' });
      expect(res.status).toBe(200);
    }
    await expectFreshProofs('POST', '/entries');
  });

  test('a nonce challenge: one retry with the nonce, which is remembered for the next call', async () => {
    api.nonceMode = 'required';
    expect((await agent.fetch(`${api.url}/a`)).status).toBe(200);
    expect(api.calls.map((c) => c.verdict)).toEqual(['use_dpop_nonce', 'ok']);
    expect(api.calls[1]!.proof!.nonce).toBe(api.nonce);
    expect((await agent.fetch(`${api.url}/b`)).status).toBe(200);
    expect(api.calls).toHaveLength(3);
    expect(retries('use_dpop_nonce')).toBe(1);
  });

  test('a nonce rotated on a successful answer is used by the next proof', async () => {
    api.advertise = true;
    await agent.fetch(`${api.url}/a`);
    const rotated = api.nonce;
    api.nonceMode = 'required';
    expect((await agent.fetch(`${api.url}/b`)).status).toBe(200);
    expect(api.calls.at(-1)!.proof!.nonce).toBe(rotated);
    expect(retries('use_dpop_nonce')).toBe(0);
  });

  test('a server that always wants a new nonce: its 401 after one retry, never a loop', async () => {
    api.nonceMode = 'always-new';
    const res = await agent.fetch(`${api.url}/a`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('use_dpop_nonce');
    expect(api.calls).toHaveLength(2);
  });

  test('a 401 invalid_token still gets its own single retry, with a new token', async () => {
    const before = (await agent.getToken()).access_token;
    api.rejectNext = 1;
    expect((await agent.fetch(`${api.url}/a`)).status).toBe(200);
    expect(api.calls).toHaveLength(2);
    expect(api.calls[1]!.authorization).not.toBe(`DPoP ${before}`);
    expect(retries('invalid_token')).toBe(1);
  });

  test('a stream body is never replayed, not even for a nonce', async () => {
    api.nonceMode = 'required';
    const res = await agent.fetch(`${api.url}/upload`, streamInit('PUT', 'once'));
    expect(res.status).toBe(401);
    expect(api.calls).toHaveLength(1);
  });
});

describe('axios', () => {
  test('DPoP scheme and a fresh proof per call, htu from baseURL and path', async () => {
    const client = agent.attach(axios.create({ baseURL: `${api.url}/v1` }));
    await client.get('/entries', { params: { page: 1 } });
    await client.get('/entries');
    await expectFreshProofs('GET', '/v1/entries');
  });

  test('a nonce challenge: one retry with the nonce, the same body', async () => {
    api.nonceMode = 'required';
    const client = agent.attach(axios.create({ baseURL: api.url }));
    const res = await client.post('/entries', { n: 1 });
    expect(res.status).toBe(200);
    expect(api.calls.map((c) => [c.verdict, c.body])).toEqual([
      ['use_dpop_nonce', '{"n":1}'],
      ['ok', '{"n":1}'],
    ]);
    expect(retries('use_dpop_nonce')).toBe(1);
  });

  test('a server that always wants a new nonce: the 401 after one retry', async () => {
    api.nonceMode = 'always-new';
    const client = agent.attach(axios.create({ baseURL: api.url }));
    const err = (await client.get('/a').catch((e: unknown) => e)) as AxiosError;
    expect(err.response?.status).toBe(401);
    expect(api.calls).toHaveLength(2);
    // And under a validateStatus that accepts 401.
    api.calls.length = 0;
    const lenient = agent.attach(axios.create({ baseURL: api.url, validateStatus: () => true }));
    expect((await lenient.get('/a')).status).toBe(401);
    expect(api.calls).toHaveLength(2);
  });
});

test('getToken() says DPoP; events carry neither the token nor a proof', async () => {
  const token = await agent.getToken();
  expect(token.token_type).toBe('DPoP');
  api.nonceMode = 'required';
  await agent.fetch(`${api.url}/a`);
  const text = JSON.stringify(events);
  expect(text).not.toContain(token.access_token);
  for (const call of api.calls) expect(text).not.toContain(String(call.proof?.jti));
});
