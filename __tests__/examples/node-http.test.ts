/**
 * examples/node-http against the test IdP: bearer() and requireScope() on a plain node:http server,
 * with real client-credentials tokens.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHandler } from '../../examples/node-http/app.js';
import { serviceAgent } from '../../lib/index.js';
import { type RunningApp, startApp } from '../helpers/app.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';

let idp: TestIdp;
let api: RunningApp;

beforeAll(async () => {
  idp = await startIdp();
  api = await startApp(() => createHandler({ issuerBaseURL: idp.issuer, audience: API_AUDIENCE }));
});

afterAll(async () => {
  await api?.close();
  await idp?.close();
});

async function token(scope: string): Promise<string> {
  const agent = serviceAgent({
    issuerBaseURL: idp.issuer,
    clientID: 'service',
    clientSecret: SERVICE_SECRET,
    scope,
  });
  const { access_token } = await agent.getToken();
  await agent.close();
  return access_token;
}

const call = (method: string, accessToken?: string) =>
  fetch(`${api.baseURL}/api/orders`, {
    method,
    headers: accessToken === undefined ? {} : { authorization: `Bearer ${accessToken}` },
  });

describe('examples/node-http', () => {
  test('no token: 401 with the bare challenge; a malformed header: 400 invalid_request', async () => {
    const res = await call('GET');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    const bad = await fetch(`${api.baseURL}/api/orders`, { headers: { authorization: 'Bearer' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  test('orders:read reads but cannot order (403); orders:write orders', async () => {
    const reader = await token('orders:read');
    const list = await call('GET', reader);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ orders: [{ id: 1, item: 'Portcullis (oak, 3 m)' }] });
    const refused = await call('POST', reader);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(refused.headers.get('www-authenticate')).toContain('scope="orders:write"');

    const created = await call('POST', await token('orders:write'));
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ order: { id: 2, item: 'Drawbridge chain' }, by: 'service' });
  });

  test('other paths and methods never reach the token check', async () => {
    expect((await fetch(`${api.baseURL}/elsewhere`)).status).toBe(404);
    expect((await call('DELETE')).status).toBe(405);
  });
});
