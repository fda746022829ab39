/**
 * The agent's hot path: with a Bearer token in memory, `attach()` and `fetch()` hand the call to the
 * transport in the same tick (no promise hop of their own), never compute the call's URL, and build
 * no Headers object; answers other than a 401 are not looked at. bench/service/cpu.ts measures it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import axios, { type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { type ServiceAgent, serviceAgent } from '../../lib/index.js';
import { CLIENT_ID, CLIENT_SECRET, startTokenServer, type TokenServer } from '../helpers/token-server.js';

let tokens: TokenServer;
const agents: ServiceAgent[] = [];
beforeAll(async () => {
  tokens = await startTokenServer();
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});
afterAll(() => tokens.close());

const API = 'https://api.example.com';

/** An agent whose calls to the API land in `sent`, answered at once with `status`. */
function agentWithStub(status = 200) {
  const sent: Array<{ url: string; init: RequestInit | undefined }> = [];
  const stub = jest.fn((input: string | URL | Request, init?: RequestInit) => {
    if (String(input) === tokens.tokenEndpoint) return fetch(input, init);
    sent.push({ url: String(input), init });
    return Promise.resolve(new Response('{}', { status }));
  });
  const agent = serviceAgent({
    tokenEndpoint: tokens.tokenEndpoint,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    fetch: stub,
  });
  agents.push(agent);
  return { agent, sent };
}

function stubAdapter(seen: InternalAxiosRequestConfig[]) {
  return (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    seen.push(config);
    return Promise.resolve({ data: {}, status: 200, statusText: 'OK', headers: {}, config, request: {} });
  };
}

describe('attach(axios) with a token in memory', () => {
  test('reaches the transport in the same tick, with the token, without computing the URL', async () => {
    const { agent } = agentWithStub();
    const seen: InternalAxiosRequestConfig[] = [];
    const instance = agent.attach(axios.create({ baseURL: API, adapter: stubAdapter(seen) }));
    await instance.get('/warm'); // the first call waits for the token: the slow path
    const getUri = jest.spyOn(instance, 'getUri');
    const pending = instance.get('/orders');
    expect(seen).toHaveLength(2); // dispatched synchronously by axios: no promise chain
    await pending;
    expect(seen[1]!.headers.get('authorization')).toMatch(/^Bearer tok-/);
    expect(getUri).not.toHaveBeenCalled();
  });

  test('the first call, with no token yet, still waits for it', async () => {
    const { agent } = agentWithStub();
    const seen: InternalAxiosRequestConfig[] = [];
    const instance = agent.attach(axios.create({ baseURL: API, adapter: stubAdapter(seen) }));
    const pending = instance.get('/orders');
    expect(seen).toHaveLength(0);
    await pending;
    expect(seen[0]!.headers.get('authorization')).toMatch(/^Bearer tok-/);
  });

  test('an asynchronous interceptor of the application still gets the token set', async () => {
    const { agent } = agentWithStub();
    const seen: InternalAxiosRequestConfig[] = [];
    const instance = axios.create({ baseURL: API, adapter: stubAdapter(seen) });
    instance.interceptors.request.use(async (config) => {
      config.headers.set('x-app', 'yes');
      return config;
    });
    agent.attach(instance);
    await instance.get('/warm');
    await Promise.all([instance.get('/a'), instance.get('/b')]);
    for (const config of seen) {
      expect(config.headers.get('authorization')).toMatch(/^Bearer tok-/);
      expect(config.headers.get('x-app')).toBe('yes');
    }
  });
});

describe('fetch() with a token in memory', () => {
  test('calls the platform fetch in the same tick, with a plain header object', async () => {
    const { agent, sent } = agentWithStub();
    await agent.fetch(`${API}/warm`);
    const pending = agent.fetch(`${API}/orders`);
    expect(sent).toHaveLength(2);
    await pending;
    const headers = sent[1]!.init!.headers;
    expect(headers).not.toBeInstanceOf(Headers);
    expect(headers).toEqual({ authorization: expect.stringMatching(/^Bearer tok-/) });
  });

  test("keeps the caller's headers and replaces its Authorization, whatever its case", async () => {
    const { agent, sent } = agentWithStub();
    await agent.fetch(`${API}/warm`);
    await agent.fetch(`${API}/orders`, {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json', AUTHORIZATION: 'Basic c2VjcmV0' },
    });
    const init = sent[1]!.init!;
    expect(init).toMatchObject({ method: 'POST', body: '{}' });
    expect(init.headers).toEqual({
      authorization: expect.stringMatching(/^Bearer tok-/),
      'Content-Type': 'application/json',
    });
  });

  test('a Headers object or a Request keeps going through Headers, with the token set', async () => {
    const { agent, sent } = agentWithStub();
    await agent.fetch(new Request(`${API}/a`, { headers: { 'x-app': 'yes' } }));
    await agent.fetch(`${API}/b`, {
      headers: new Headers({ authorization: 'Basic c2VjcmV0', 'x-app': 'yes' }),
    });
    for (const { init } of sent) {
      const headers = new Headers(init!.headers);
      expect(headers.get('authorization')).toMatch(/^Bearer tok-/);
      expect(headers.get('x-app')).toBe('yes');
    }
  });

  test('a 200 answer is handed back untouched, its headers unread', async () => {
    const { agent } = agentWithStub();
    await agent.fetch(`${API}/warm`);
    const get = jest.spyOn(Headers.prototype, 'get');
    try {
      const response = await agent.fetch(`${API}/orders`);
      expect(response.status).toBe(200);
      expect(get).not.toHaveBeenCalled();
    } finally {
      get.mockRestore();
    }
  });
});
