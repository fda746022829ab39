/**
 * A worker that calls a protected API as itself, with the OAuth 2.0 client-credentials grant: no
 * user, its own client ID and secret. serviceAgent() fetches the token, caches it until shortly
 * before it expires (concurrent calls share one token request), and adds it to each call, through
 * axios (attach) or fetch alike. A 401 invalid_token gets a new token and one retry.
 */
import axios from 'axios';
import { serviceAgent } from 'portcullis';

export interface WorkerOptions {
  /** Your IdP: the token endpoint comes from its discovery document. */
  issuerBaseURL: string;
  clientID: string;
  clientSecret: string;
  /** The API's identifier, asked for as an RFC 8707 resource indicator. */
  resource: string;
  /** Where the API answers, e.g. http://localhost:3001. */
  apiURL: string;
}

export interface Order {
  id: number;
  item: string;
  by: string;
}

export interface Worker {
  /** GET /api/orders, through axios. */
  listOrders(): Promise<Order[]>;
  /** POST /api/orders, through fetch. */
  createOrder(item: string): Promise<Order>;
  /** Waits for a token request in flight; call at shutdown. */
  close(): Promise<void>;
}

export function createWorker(options: WorkerOptions): Worker {
  // One agent per API called: its token is for that API (resource) and those scopes only.
  const orders = serviceAgent({
    issuerBaseURL: options.issuerBaseURL,
    clientID: options.clientID,
    clientSecret: options.clientSecret,
    resource: options.resource, // Auth0, Okta and others take `audience` instead
    scope: 'orders:read orders:write',
  });

  // axios: the agent's interceptors go on this instance only, never on the global axios.
  const api = orders.attach(axios.create({ baseURL: `${options.apiURL}/api` }));

  return {
    async listOrders() {
      const { data } = await api.get<{ orders: Order[] }>('/orders');
      return data.orders;
    },
    async createOrder(item) {
      // fetch: the same token, with the platform's fetch; answers come back as they are.
      const res = await orders.fetch(`${options.apiURL}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item }),
      });
      if (!res.ok) throw new Error(`POST /api/orders answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { order: Order }).order;
    },
    close: () => orders.close(),
  };
}
