/**
 * A refused token, seen from both sides: the client gets RFC 6750's `invalid_token` and a short
 * description naming the check (no configured value, no claim value); the operator's logger gets, at
 * `info`, the stable reason code with what was expected and what was received. The same detail rides
 * on the thrown error, non-enumerable, so that serialising the error cannot leak it, and never with
 * the token.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import request from 'supertest';
import { InvalidTokenError, type LogDetails, type Logger } from '../../lib/index.js';
import { verifyJwtAccessToken } from '../../lib/protocol/access-token.js';
import { refusalOf } from '../../lib/protocol/bearer-refusal.js';
import type { JwtPolicy } from '../../lib/protocol/jwt-checks.js';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';
import { buildApp } from './app.js';

let ks: KeyServer;
beforeAll(async () => {
  ks = await startKeyServer();
});
afterAll(() => ks.close());

const now = (): number => Math.floor(Date.now() / 1000);

interface Line {
  details: LogDetails;
  message: string;
}

/** An app whose logger keeps every `info` line. */
function appWithLog(extra: Record<string, unknown> = {}) {
  const lines: Line[] = [];
  const logger: Logger = {
    warn() {},
    info: (details, message) => lines.push({ details, message }),
    debug: (details, message) => lines.push({ details, message: `[debug] ${message}` }),
  };
  const app = buildApp('express5', {
    issuer: ks.issuer,
    jwksUri: ks.jwksUri,
    audience: AUDIENCE,
    logger,
    ...extra,
  });
  return { app, lines };
}

/** Send `token`; expect a 401 whose description names the check; return the one log line. */
async function refused(
  token: string,
  description: string,
  extra: Record<string, unknown> = {},
): Promise<Line> {
  const { app, lines } = appWithLog(extra);
  const res = await request(app).get('/api/me').set('authorization', `Bearer ${token}`);
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: 'invalid_token', error_description: description });
  expect(res.headers['www-authenticate']).toBe(
    `Bearer realm="api", error="invalid_token", error_description="${description.replace(/"/g, '\\"')}"`,
  );
  expect(lines).toHaveLength(1);
  const [line] = lines;
  expect(line!.message).not.toContain(token);
  expect(JSON.stringify(line!.details)).not.toContain(token);
  return line!;
}

describe('bearer() tells the operator why a token was refused', () => {
  test('aud: expected and received in the log, neither in the answer', async () => {
    const line = await refused(await ks.token({ aud: 'https://other.example' }), 'unexpected "aud" claim');
    expect(line.details).toEqual({
      reason: 'aud',
      expected: [AUDIENCE],
      received: 'https://other.example',
      hint: expect.stringContaining(
        "the token was issued for another API: the client must ask for this API's audience",
      ),
      status: 401,
      error: 'invalid_token',
    });
    expect(line.message).toContain(
      `bearer() refused a token (aud): unexpected "aud" claim; received "https://other.example"; expected ["${AUDIENCE}"]`,
    );
  });

  test('iss', async () => {
    const line = await refused(await ks.token({ iss: 'https://evil.example' }), 'unexpected "iss" claim');
    expect(line.details).toMatchObject({
      reason: 'iss',
      expected: [ks.issuer],
      received: 'https://evil.example',
    });
    expect(line.message).toContain('check issuerBaseURL or issuer');
  });

  test('typ: JWT, as Keycloak, Entra ID, Okta and Auth0 issue it: the log names allowJWTTyp', async () => {
    const line = await refused(
      await ks.token({}, { typ: 'JWT' }),
      'unexpected "typ" header (RFC 9068 requires "at+jwt")',
    );
    expect(line.details).toMatchObject({
      reason: 'typ',
      expected: ['at+jwt', 'application/at+jwt'],
      received: 'JWT',
    });
    expect(line.message).toContain('received "JWT"; expected ["at+jwt", "application/at+jwt"]');
    expect(line.message).toContain(
      'Keycloak, Entra ID, Okta and Auth0 (default profile) issue "typ": "JWT": set allowJWTTyp: true to accept it',
    );
    // The option does what the log says.
    const { app } = appWithLog({ allowJWTTyp: true });
    const accepted = await request(app)
      .get('/api/me')
      .set('authorization', `Bearer ${await ks.token({}, { typ: 'JWT' })}`);
    expect(accepted.status).toBe(200);
  });

  test('alg: the algorithms accepted and the one received', async () => {
    const line = await refused(await ks.token({}, { alg: 'HS256' }), 'the token\'s "alg" is not allowed');
    expect(line.details).toMatchObject({ reason: 'alg', received: 'HS256' });
    expect(line.details['expected']).toEqual(expect.arrayContaining(['RS256', 'ES256', 'EdDSA']));
  });

  test('kid: the kid received and the kids the JWKS holds', async () => {
    const line = await refused(
      await ks.token({}, { kid: 'no-such-kid' }),
      'no key in the JWKS matches the token\'s "kid" and "alg"',
    );
    expect(line.details).toMatchObject({
      reason: 'kid',
      received: 'no-such-kid',
      expected: ks.keys.map((k) => k.kid),
      alg: 'RS256',
    });
  });

  test("exp and nbf: the claim, this server's clock and the tolerance, as times", async () => {
    const exp = now() - 600;
    const line = await refused(await ks.token({ exp }), 'the token has expired ("exp" check failed)');
    expect(line.details).toMatchObject({ reason: 'exp', received: exp, clockTolerance: 5 });
    expect(Math.abs((line.details['now'] as number) - now())).toBeLessThan(5);
    expect(line.message).toContain(`received ${exp} (${new Date(exp * 1000).toISOString()})`);
    expect(line.message).toContain('clockTolerance 5 s');
    const nbf = now() + 600;
    const early = await refused(await ks.token({ nbf }), 'the token is not valid yet ("nbf" check failed)');
    expect(early.details).toMatchObject({ reason: 'nbf', received: nbf });
  });

  test('signature: the kid and alg tried', async () => {
    const [h, p] = (await ks.token()).split('.');
    const other = (await ks.token({ sub: 'someone-else' })).split('.')[2];
    const line = await refused(`${h}.${p}.${other}`, "the token's signature does not verify");
    expect(line.details).toMatchObject({
      reason: 'signature',
      kid: ks.keys[0]!.kid,
      alg: 'RS256',
      keysTried: 1,
    });
  });

  test('malformed, and no token at all', async () => {
    const line = await refused('not-a.jwt.at-all', "the token's header is not valid JSON");
    expect(line.details).toMatchObject({ reason: 'malformed' });
    const { app, lines } = appWithLog();
    expect((await request(app).get('/api/me')).status).toBe(401);
    expect(lines[0]?.details).toMatchObject({ reason: 'missing', status: 401, error: null });
    // Every anonymous request has no token: routine, so at debug, not info.
    expect(lines[0]?.message).toMatch(/^\[debug\] /);
  });

  test('a token in two places: 400 for the client, the places for the operator', async () => {
    const { app, lines } = appWithLog();
    const token = await ks.token();
    const res = await request(app)
      .get(`/api/me?access_token=${token}`)
      .set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(400);
    expect(lines[0]?.details).toMatchObject({
      reason: 'request',
      received: ['header', 'query'],
      status: 400,
    });
    expect(lines[0]?.message).toContain('a client sends its token in one place only (RFC 6750 §3.1)');
    expect(lines[0]?.message).not.toContain(token);
  });

  test('the refusal rides on the error, non-enumerable: JSON and inspect show neither it nor the token', async () => {
    const policy: JwtPolicy = {
      algorithms: new Set(['RS256']),
      allowJWTTyp: false,
      issuers: [ks.issuer],
      audiences: [AUDIENCE],
      clockTolerance: 5,
      maxTokenAge: undefined,
      realm: 'api',
    };
    const token = await ks.token({ aud: 'https://other.example' });
    let err: unknown;
    try {
      verifyJwtAccessToken(
        token,
        { policy, jwks: undefined, secret: undefined, permissionsAsScopes: false },
        now(),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidTokenError);
    expect(refusalOf(err)).toMatchObject({
      reason: 'aud',
      expected: [AUDIENCE],
      received: 'https://other.example',
    });
    expect(Object.keys(err as object)).not.toContain('refusal');
    expect(JSON.stringify(err)).not.toContain('other.example');
    expect(inspect(err)).not.toContain('other.example');
    for (const text of [JSON.stringify(err), inspect(err), inspect(err, { showHidden: true, depth: 10 })]) {
      expect(text).not.toContain(token);
    }
  });
});
