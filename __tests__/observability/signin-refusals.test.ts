/**
 * A refused callback or back-channel logout token tells why, in the same words everywhere: the
 * `signin.login.failed` / `signin.backchannel_logout.rejected` event (stable reason, what was
 * expected and what the token carried), the span (error, `portcullis.reason`) and the metric. A
 * check on the login's secrets (`nonce`, the callback's `state` and `code`) is named, never shown.
 * Against an IdP of our own, which forges what oidc-provider will not.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { SpanStatusCode } from '@opentelemetry/api';
import type * as jose from 'jose';
import type { SigninEvent } from '../../lib/index.js';
import { point, setUpTelemetry, type TestTelemetry } from '../helpers/otel.js';
import { newRsaKey, type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';
import { type SigninApp, startSigninApp, TestBrowser } from '../signin/harness.js';

let telemetry: TestTelemetry;
let rogue: RogueIdp;
let app: SigninApp;
const events: SigninEvent[] = [];

beforeAll(async () => {
  telemetry = setUpTelemetry();
  rogue = await startRogueIdp();
  app = await startSigninApp(rogue, {
    options: {
      clientSecret: 'rogue-client-secret-0123456789abcdef',
      authorizationParams: { scope: 'openid' },
      backchannelLogout: true,
      onEvent: (event) => events.push(event),
    },
  });
});
afterAll(async () => {
  await app.close();
  await rogue.close();
  await telemetry.shutdown();
});
beforeEach(() => {
  events.length = 0;
  telemetry.reset();
});

interface Started {
  browser: TestBrowser;
  state: string;
  nonce: string;
}

async function begin(): Promise<Started> {
  const browser = new TestBrowser();
  const url = new URL((await browser.get(`${app.baseURL}/login`)).location!);
  return { browser, state: url.searchParams.get('state')!, nonce: url.searchParams.get('nonce')! };
}

function claims(nonce: string, extra: jose.JWTPayload = {}): jose.JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: rogue.issuer, aud: 'web', sub: 'mallory', nonce, iat: now, exp: now + 300, ...extra };
}

const CODE = 'authorization-code-4f1d2c';

async function callback(s: Started, idToken: string | undefined, params: Record<string, string> = {}) {
  rogue.token = () => ({
    status: 200,
    body: { access_token: 'at-9c2e', token_type: 'Bearer', expires_in: 300, id_token: idToken },
  });
  const query = new URLSearchParams({ code: CODE, state: s.state, iss: rogue.issuer, ...params });
  return s.browser.get(`${app.baseURL}/callback?${query}`);
}

/** The one failed login: its event, span and metric agree on the reason. */
async function failure(status: number): Promise<SigninEvent & { type: 'signin.login.failed' }> {
  const failed = events.filter((e) => e.type === 'signin.login.failed');
  expect(failed).toHaveLength(1);
  const event = failed[0] as SigninEvent & { type: 'signin.login.failed' };
  expect(event.status).toBe(status);
  const span = telemetry.spans().find((s) => s.name === 'portcullis.signin.callback')!;
  expect(span.status.code).toBe(SpanStatusCode.ERROR);
  expect(span.attributes).toMatchObject({ 'portcullis.reason': event.reason, 'error.type': event.code });
  const counted = { 'portcullis.outcome': 'failure', 'portcullis.reason': event.reason };
  expect((await point(telemetry, 'portcullis.signin.logins', counted))?.value).toBe(1);
  return event;
}

describe('a refused callback', () => {
  test.each<[string, jose.JWTPayload, Record<string, string>]>([
    ['aud', { aud: 'other-client' }, { expected: 'web', received: 'other-client' }],
    ['azp', { aud: ['web', 'other'], azp: 'other' }, { expected: 'web', received: 'other' }],
    ['iss', { iss: 'https://evil.example' }, { received: 'https://evil.example' }],
  ])('an ID token whose %s fails: expected and received', async (reason, extra, values) => {
    const s = await begin();
    expect((await callback(s, await rogue.sign(claims(s.nonce, extra)))).status).toBe(400);
    const event = await failure(400);
    expect(event).toMatchObject({ reason, code: 'ERR_ID_TOKEN_INVALID', ...values });
    expect(event.provider).toBe('default');
  });

  test('an expired ID token: the exp received and the clock it was held to', async () => {
    const s = await begin();
    const exp = Math.floor(Date.now() / 1000) - 3600;
    expect((await callback(s, await rogue.sign(claims(s.nonce, { exp })))).status).toBe(400);
    expect(await failure(400)).toMatchObject({ reason: 'exp', received: exp, now: expect.any(Number) });
  });

  test('another nonce: the check is named, neither nonce is shown', async () => {
    const s = await begin();
    const forged = `${s.nonce}x`;
    expect((await callback(s, await rogue.sign(claims(forged)))).status).toBe(400);
    const event = await failure(400);
    expect(event.reason).toBe('nonce');
    expect(event).not.toHaveProperty('expected');
    expect(event).not.toHaveProperty('received');
    const seen = [JSON.stringify(events), ...(await telemetry.strings())].join('\n');
    for (const secret of [s.nonce, forged, s.state, CODE]) expect(seen).not.toContain(secret);
  });

  test('a signature by another key with the same kid', async () => {
    const s = await begin();
    const key = { ...newRsaKey(), kid: rogue.keys[0]!.kid };
    expect((await callback(s, await rogue.sign(claims(s.nonce), { key }))).status).toBe(400);
    expect(await failure(400)).toMatchObject({ reason: 'signature', code: 'ERR_ID_TOKEN_INVALID' });
  });

  test("another issuer's iss parameter (RFC 9207): the issuers only, not the code or state beside them", async () => {
    const s = await begin();
    const res = await callback(s, undefined, { iss: 'https://evil.example' });
    expect(res.status).toBe(400);
    const event = await failure(400);
    expect(event).toMatchObject({
      reason: 'iss',
      code: 'ERR_ISSUER_MISMATCH',
      expected: rogue.issuer,
      received: 'https://evil.example',
    });
    const seen = [JSON.stringify(events), ...(await telemetry.strings())].join('\n');
    for (const secret of [s.state, CODE]) expect(seen).not.toContain(secret);
  });

  test("the IdP's error: its code, as the IdP sent it", async () => {
    const s = await begin();
    const query = new URLSearchParams({ error: 'access_denied', state: s.state, iss: rogue.issuer });
    expect((await s.browser.get(`${app.baseURL}/callback?${query}`)).status).toBe(403);
    const event = await failure(403);
    expect(event).toMatchObject({ reason: 'authorization_error', error: 'access_denied' });
  });

  test('the token endpoint refuses the code: a failed token request and a failed login', async () => {
    const s = await begin();
    rogue.token = () => ({ status: 400, body: { error: 'invalid_grant' } });
    const query = new URLSearchParams({ code: CODE, state: s.state, iss: rogue.issuer });
    expect((await s.browser.get(`${app.baseURL}/callback?${query}`)).status).toBe(400);
    expect(await failure(400)).toMatchObject({ reason: 'token_error', error: 'invalid_grant' });
    expect(events.find((e) => e.type === 'idp.token.failed')).toEqual({
      type: 'idp.token.failed',
      url: `${rogue.issuer}/token`,
      grant: 'authorization_code',
      code: 'ERR_OAUTH_RESPONSE',
      error: 'invalid_grant',
      status: 400,
      durationMs: expect.any(Number),
    });
    const refused = { 'portcullis.grant_type': 'authorization_code', 'portcullis.outcome': 'failure' };
    expect((await point(telemetry, 'portcullis.idp.token.requests', refused))?.value).toBe(1);
  });
});

describe('a refused back-channel logout token', () => {
  const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
  const logoutClaims = (extra: jose.JWTPayload = {}): jose.JWTPayload => ({
    iss: rogue.issuer,
    aud: 'web',
    iat: Math.floor(Date.now() / 1000),
    jti: randomUUID(),
    sid: 'sid-1',
    events: { [EVENT]: {} },
    ...extra,
  });
  const post = (body: Record<string, string>) =>
    fetch(`${app.baseURL}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
  const sign = (extra?: jose.JWTPayload) =>
    rogue.sign(logoutClaims(extra), { header: { typ: 'logout+jwt' } });

  async function rejected(body: Record<string, string>) {
    expect((await post(body)).status).toBe(400);
    const event = events.find((e) => e.type === 'signin.backchannel_logout.rejected');
    const span = telemetry.spans().findLast((s) => s.name === 'portcullis.signin.backchannel_logout')!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['portcullis.reason']).toBe((event as { reason: string }).reason);
    const counted = {
      'portcullis.logout.kind': 'backchannel',
      'portcullis.outcome': 'failure',
      'portcullis.reason': (event as { reason: string }).reason,
    };
    expect((await point(telemetry, 'portcullis.signin.logouts', counted))?.value).toBe(1);
    return event;
  }

  test('another audience: expected and received', async () => {
    expect(await rejected({ logout_token: await sign({ aud: 'another-app' }) })).toEqual({
      type: 'signin.backchannel_logout.rejected',
      issuer: `${rogue.issuer}/`,
      provider: 'default',
      reason: 'aud',
      expected: 'web',
      received: 'another-app',
      code: 'ERR_BAD_REQUEST',
    });
  });

  test('a replayed token: accepted once, then refused as a replay', async () => {
    const token = await sign();
    expect((await post({ logout_token: token })).status).toBe(200);
    expect(events.at(-1)).toMatchObject({ type: 'signin.backchannel_logout.completed', sessions: 0 });
    expect(await rejected({ logout_token: token })).toMatchObject({ reason: 'replay' });
  });

  test('a nonce, named and not shown; no token at all, a bad request', async () => {
    const nonce = 'logout-nonce-7b1e';
    const event = await rejected({ logout_token: await sign({ nonce }) });
    expect(event).toEqual(expect.objectContaining({ reason: 'nonce' }));
    expect(JSON.stringify(events)).not.toContain(nonce);
    events.length = 0;
    telemetry.reset();
    expect(await rejected({})).toMatchObject({ reason: 'request', code: 'ERR_BAD_REQUEST' });
  });
});
