/**
 * The contenders, each as "make a call to the API and say its status":
 * - interceptor: axios-oauth-client v1's `interceptor()` over axios-token-interceptor's cache;
 * - openid-client: `clientCredentialsGrant()` before every call (its documented use: it has no cache);
 * - portcullis: `serviceAgent().attach(axios.create())`, optionally on a Redis cache;
 * - static: a fixed Authorization header, the baseline for added latency.
 */
import axios, { type AxiosInstance } from 'axios';
import oauthClient from 'axios-oauth-client';
import * as openid from 'openid-client';
import { createClient } from 'redis';
import { redisTokenCache, serviceAgent } from '../../lib/index.js';
import { loadTokenProvider } from './token-interceptor-shim.js';

export const CLIENT_ID = 'svc';
export const CLIENT_SECRET = 'svc-secret-0123456789-abcdefghijkl';

export type Kind =
  | 'interceptor'
  | 'openid-client'
  | 'portcullis'
  | 'portcullis-fetch'
  | 'static'
  | 'static-fetch';

export interface Contender {
  call(): Promise<number>;
  close(): Promise<void>;
}

export interface Endpoints {
  tokenEndpoint: string;
  apiUrl: string;
  redisUrl?: string;
  redisPrefix?: string;
  staticToken?: string;
}

function api(url: string): AxiosInstance {
  return axios.create({ baseURL: url, validateStatus: () => true });
}

async function interceptor(e: Endpoints): Promise<Contender> {
  const { provider } = await loadTokenProvider();
  const getToken = oauthClient.client(axios.create(), {
    url: e.tokenEndpoint,
    grant_type: 'client_credentials',
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
  });
  const instance = api(e.apiUrl);
  instance.interceptors.request.use(oauthClient.interceptor(provider, getToken));
  return { call: async () => (await instance.get('/orders')).status, close: async () => undefined };
}

async function openidClient(e: Endpoints): Promise<Contender> {
  const url = new URL(e.tokenEndpoint);
  const config = new openid.Configuration(
    { issuer: url.origin, token_endpoint: url.href },
    CLIENT_ID,
    CLIENT_SECRET,
  );
  openid.allowInsecureRequests(config); // loopback http in the bench
  const instance = api(e.apiUrl);
  return {
    async call() {
      const { access_token } = await openid.clientCredentialsGrant(config);
      return (await instance.get('/orders', { headers: { Authorization: `Bearer ${access_token}` } })).status;
    },
    close: async () => undefined,
  };
}

async function portcullis(e: Endpoints, withFetch: boolean): Promise<Contender> {
  let redis: ReturnType<typeof createClient> | undefined;
  if (e.redisUrl !== undefined) {
    redis = createClient({ url: e.redisUrl });
    redis.on('error', () => undefined);
    await redis.connect();
  }
  const agent = serviceAgent({
    tokenEndpoint: e.tokenEndpoint,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ...(redis === undefined ? {} : { cache: redisTokenCache(redis, { prefix: e.redisPrefix ?? 'bench:' }) }),
  });
  const instance = agent.attach(api(e.apiUrl));
  return {
    call: withFetch
      ? async () => {
          const res = await agent.fetch(`${e.apiUrl}/orders`);
          await res.arrayBuffer();
          return res.status;
        }
      : async () => (await instance.get('/orders')).status,
    async close() {
      await agent.close();
      redis?.destroy();
    },
  };
}

function staticHeader(e: Endpoints, withFetch: boolean): Contender {
  const headers = { Authorization: `Bearer ${e.staticToken ?? 'static'}` };
  const instance = axios.create({ baseURL: e.apiUrl, validateStatus: () => true, headers });
  return {
    call: withFetch
      ? async () => {
          const res = await fetch(`${e.apiUrl}/orders`, { headers });
          await res.arrayBuffer();
          return res.status;
        }
      : async () => (await instance.get('/orders')).status,
    close: async () => undefined,
  };
}

export function contender(kind: Kind, e: Endpoints): Promise<Contender> {
  switch (kind) {
    case 'interceptor':
      return interceptor(e);
    case 'openid-client':
      return openidClient(e);
    case 'portcullis':
      return portcullis(e, false);
    case 'portcullis-fetch':
      return portcullis(e, true);
    case 'static':
      return Promise.resolve(staticHeader(e, false));
    case 'static-fetch':
      return Promise.resolve(staticHeader(e, true));
  }
}
