/**
 * bearer() when the IdP fails: the 503 says which URL answered what and what to check, and the
 * operator's log (`logger.error`) carries the URL and the status as fields. An IdP of our own for a
 * 404 discovery and a JWKS that is a web page; oidc-provider for introspection's `invalid_client`.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import type { BearerOptions, LogDetails, Logger } from '../../lib/index.js';
import { API_AUDIENCE, startIdp, type TestIdp } from '../helpers/idp.js';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';
import { type OddIdp, startOddIdp } from '../helpers/odd-idp.js';
import { buildApp } from './app.js';

interface Line {
  level: 'info' | 'error';
  details: LogDetails;
  message: string;
}

function recorder(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    logger: {
      warn() {},
      info: (details, message) => lines.push({ level: 'info', details, message }),
      error: (details, message) => lines.push({ level: 'error', details, message }),
    },
  };
}

async function call(options: BearerOptions, token: string) {
  return request(buildApp('express5', options)).get('/api/me').set('authorization', `Bearer ${token}`);
}

describe('bearer() against an IdP that answers oddly', () => {
  let odd: OddIdp;
  let ks: KeyServer;
  beforeAll(async () => {
    odd = await startOddIdp();
    ks = await startKeyServer();
  });
  afterAll(async () => {
    await odd.close();
    await ks.close();
  });

  test('discovery 404: a 503 that names the URL and says to check issuerBaseURL; logged with url and status', async () => {
    odd.answers.set('/.well-known/openid-configuration', { status: 404, body: '<h1>Not Found</h1>' });
    const { logger, lines } = recorder();
    const res = await call({ issuerBaseURL: odd.url, audience: AUDIENCE, logger }, await ks.token());
    odd.answers.clear();
    expect(res.status).toBe(503);
    const expected =
      `discovery failed: ${odd.url}/.well-known/openid-configuration answered 404 (text/html): check issuerBaseURL ` +
      `("${odd.url}/"): it must be the issuer's URL, under which the IdP publishes /.well-known/openid-configuration`;
    // The client learns only that it should retry; the operator's log has the URL and what to check.
    expect(res.body).toEqual({
      error: 'temporarily_unavailable',
      error_description:
        'tokens cannot be checked right now (the identity provider is unavailable); try again later',
    });
    expect(JSON.stringify(res.body)).not.toContain(odd.url);
    expect(lines).toEqual([
      {
        level: 'error',
        details: {
          code: 'ERR_DISCOVERY_FAILED',
          status: 503,
          idpUrl: `${odd.url}/.well-known/openid-configuration`,
          idpStatus: 404,
        },
        message: `bearer() could not check a token: ${expected}`,
      },
    ]);
  });

  test('a JWKS that is a web page: the JWKS URL, its status, and where that URL comes from', async () => {
    odd.answers.set('/jwks', { status: 200, body: '<html>Please sign in</html>' });
    const token = await ks.token({ iss: odd.url });
    const log1 = recorder();
    const discovered = await call({ issuerBaseURL: odd.url, audience: AUDIENCE, logger: log1.logger }, token);
    expect(discovered.status).toBe(503);
    expect(log1.lines.at(-1)?.message).toBe(
      'bearer() could not check a token: ' +
        `JWKS fetch failed: the JWKS endpoint ${odd.url}/jwks answered 200 (text/html), but the body is not JSON: ` +
        "check the jwks_uri of the IdP's discovery document",
    );
    odd.answers.set('/jwks', { status: 404, body: '<h1>Not Found</h1>' });
    const log2 = recorder();
    const configured = await call(
      { issuer: odd.url, jwksUri: `${odd.url}/jwks`, audience: AUDIENCE, logger: log2.logger },
      token,
    );
    expect(configured.status).toBe(503);
    expect(log2.lines.at(-1)?.message).toBe(
      'bearer() could not check a token: ' +
        `JWKS fetch failed: the JWKS endpoint ${odd.url}/jwks answered 404 (text/html): check jwksUri`,
    );
    odd.answers.clear();
  });
});

describe('bearer() introspection against oidc-provider', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startIdp();
  });
  afterAll(() => idp.close());

  test('invalid_client at the introspection endpoint: the URL, the method used, what to check; no secret, no token', async () => {
    const { logger, lines } = recorder();
    const secret = 'wrong-introspection-secret-0123';
    const opaque = 'opaque-token-that-must-not-leak';
    const res = await call(
      {
        issuerBaseURL: idp.issuer,
        audience: API_AUDIENCE,
        introspection: { clientID: 'service', clientSecret: secret },
        logger,
      },
      opaque,
    );
    expect(res.status).toBe(502);
    const [line] = lines;
    expect(line?.details).toEqual({
      code: 'ERR_OAUTH_RESPONSE',
      status: 502,
      idpUrl: `${idp.issuer}/token/introspection`,
      idpStatus: 401,
    });
    expect(line?.message).toContain(
      `token introspection failed: the introspection endpoint ${idp.issuer}/token/introspection answered 401 "invalid_client"`,
    );
    expect(line?.message).toContain('client "service" authenticating with client_secret_basic');
    for (const text of [JSON.stringify(res.body), inspect(lines, { depth: 10 })]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(opaque);
    }
  });
});
