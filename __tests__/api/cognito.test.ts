/**
 * Amazon Cognito's access tokens carry no `aud`: the app client is in `client_id`, with
 * `token_use: access`. `clientIdAsAudience` accepts them by `client_id`, and nothing else changes.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { type KeyServer, startKeyServer } from '../helpers/key-server.js';
import { buildApp } from './app.js';

const APP_CLIENT = '1example23456789app';
let ks: KeyServer;
beforeAll(async () => {
  ks = await startKeyServer();
});
afterAll(() => ks.close());

const app = (clientIdAsAudience: boolean) =>
  buildApp('express5', {
    issuer: ks.issuer,
    jwksUri: ks.jwksUri,
    audience: APP_CLIENT,
    allowJWTTyp: true, // Cognito's access tokens have no typ either
    clientIdAsAudience,
    logger: { warn() {} },
  });

/** A Cognito-shaped access token: no aud, client_id, token_use, no typ header. */
const cognito = (claims: Record<string, unknown>) =>
  ks.token(
    { aud: undefined, client_id: APP_CLIENT, token_use: 'access', scope: 'orders:read', ...claims },
    { typ: undefined },
  );

const status = async (server: ReturnType<typeof app>, token: string) =>
  (await request(server).get('/api/me').set('authorization', `Bearer ${token}`)).status;

describe('clientIdAsAudience (Amazon Cognito)', () => {
  test('off: a token without aud is refused, as RFC 9068 wants', async () => {
    expect(await status(app(false), await cognito({}))).toBe(401);
  });

  test('on: accepted by its client_id', async () => {
    const res = await request(app(true))
      .get('/api/me')
      .set('authorization', `Bearer ${await cognito({})}`);
    expect(res.status).toBe(200);
    expect(res.body.scopes).toEqual(['orders:read']);
  });

  test('on: another client_id, an ID token (token_use id), or an aud naming another API are refused', async () => {
    const server = app(true);
    expect(await status(server, await cognito({ client_id: 'another-client' }))).toBe(401);
    expect(await status(server, await cognito({ token_use: 'id' }))).toBe(401);
    expect(await status(server, await cognito({ aud: 'https://other.example' }))).toBe(401);
  });
});
