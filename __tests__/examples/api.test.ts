/**
 * examples/api against the test IdP, with real tokens from its token endpoint: the right scopes get
 * in, no token is a 401 with RFC 6750's bare challenge, too few scopes a 403 naming the missing ones.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createApp } from '../../examples/api/app.js';
import { serviceAgent } from '../../lib/index.js';
import { type RunningApp, startApp } from '../helpers/app.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from '../helpers/idp.js';

let idp: TestIdp;
let api: RunningApp;

beforeAll(async () => {
  idp = await startIdp();
  api = await startApp(() =>
    createApp({ issuerBaseURL: idp.issuer, audience: API_AUDIENCE, auditors: ['service'] }),
  );
});

afterAll(async () => {
  await api?.close();
  await idp?.close();
});

/** A client-credentials token from the IdP, with these scopes, for `resource`. */
async function token(scope: string, { resource = API_AUDIENCE, jwtClient = false } = {}): Promise<string> {
  const agent = serviceAgent({
    issuerBaseURL: idp.issuer,
    ...(jwtClient
      ? { clientID: 'service-jwt', clientAssertionSigningKey: idp.clientKey.pem }
      : { clientID: 'service', clientSecret: SERVICE_SECRET }),
    scope,
    resource,
  });
  const { access_token } = await agent.getToken();
  await agent.close();
  return access_token;
}

function call(path: string, accessToken?: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (accessToken !== undefined) headers.set('authorization', `Bearer ${accessToken}`);
  return fetch(`${api.baseURL}${path}`, { ...init, headers });
}

const post = (item: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ item }),
});

describe('examples/api', () => {
  test('no token: 401 with a challenge and no error code', async () => {
    const res = await call('/api/orders');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  });

  test('a token with the scope reads; without orders:write it cannot order (403)', async () => {
    const reader = await token('orders:read');
    const list = await call('/api/orders', reader);
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ orders: [{ id: 1, item: 'Portcullis (oak, 3 m)', by: 'seed' }] });

    const refused = await call('/api/orders', reader, post('Winch'));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="api", error="insufficient_scope", error_description="[^"]+", scope="orders:write"$/,
    );
    expect(await refused.json()).toMatchObject({ error: 'insufficient_scope' });
  });

  test('a token with orders:write orders; a bad JSON body is a JSON 400', async () => {
    const writer = await token('orders:read orders:write');
    const created = await call('/api/orders', writer, post('Winch'));
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ order: { id: 2, item: 'Winch', by: 'service' } });

    const bad = await call('/api/orders', writer, { ...post(''), body: '{"item":' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_request' });
  });

  test('requireAnyScope: one of the scopes will do, none is a 403 naming both', async () => {
    const refused = await call('/api/reports', await token('orders:read'));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('scope="reports:read orders:write"');
    expect((await call('/api/reports', await token('orders:write'))).status).toBe(200);
  });

  test('requireClaim: the auditor client reads the audit log, another client is refused', async () => {
    expect((await call('/api/audit', await token('orders:read'))).status).toBe(200);
    const other = await call('/api/audit', await token('orders:read', { jwtClient: true }));
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  test('a token for another API is refused (401), and unknown routes are a JSON 404', async () => {
    const elsewhere = await token('orders:read', { resource: 'https://billing.example.test' });
    const res = await call('/api/orders', elsewhere);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const missing = await call('/api/nothing', await token('orders:read'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not_found' });
  });
});
