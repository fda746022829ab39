/**
 * examples/service-to-service against the test IdP: the worker gets a client-credentials token and
 * calls examples/api with it, through axios and through fetch, on one token request.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createApp } from '../../examples/api/app.js';
import { createWorker, type WorkerOptions } from '../../examples/service-to-service/worker.js';
import { type RunningApp, startApp } from '../helpers/app.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';

let idp: TestIdp;
let api: RunningApp;
const grants: string[] = [];

beforeAll(async () => {
  idp = await startIdp();
  idp.provider.on('grant.success', (ctx) => grants.push(String(ctx.oidc.params?.['grant_type'])));
  api = await startApp(() => createApp({ issuerBaseURL: idp.issuer, audience: API_AUDIENCE, auditors: [] }));
});

afterAll(async () => {
  await api?.close();
  await idp?.close();
});

const options = (): WorkerOptions => ({
  issuerBaseURL: idp.issuer,
  clientID: 'service',
  clientSecret: SERVICE_SECRET,
  resource: API_AUDIENCE,
  apiURL: api.baseURL,
});

describe('examples/service-to-service', () => {
  test('the worker lists (axios) and places orders (fetch) with one client-credentials token', async () => {
    const worker = createWorker(options());
    try {
      const [first, again] = await Promise.all([worker.listOrders(), worker.listOrders()]);
      expect(first).toEqual([{ id: 1, item: 'Portcullis (oak, 3 m)', by: 'seed' }]);
      expect(again).toEqual(first);
      expect(await worker.createOrder('Winch')).toEqual({ id: 2, item: 'Winch', by: 'service' });
      expect((await worker.listOrders()).map((o) => o.item)).toEqual(['Portcullis (oak, 3 m)', 'Winch']);
      expect(grants).toEqual(['client_credentials']);
    } finally {
      await worker.close();
    }
  });

  test('a wrong secret fails with the IdP’s error, not a 401 from the API', async () => {
    const worker = createWorker({ ...options(), clientSecret: 'not-the-secret' });
    try {
      await expect(worker.listOrders()).rejects.toMatchObject({
        code: 'ERR_TOKEN_REQUEST_FAILED',
        error: 'invalid_client',
      });
    } finally {
      await worker.close();
    }
  });
});
