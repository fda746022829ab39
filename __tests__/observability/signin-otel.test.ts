/**
 * auth() under the real OpenTelemetry SDK, against the real oidc-provider: login, callback, refresh,
 * logout and back-channel logout are spans, each call to the IdP an HTTP client span below the step
 * that made it; logins, refreshes, logouts and token requests are metrics; and `onEvent` and the
 * `portcullis:signin` channel hear the same events.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp } from '../helpers/idp.js';
import { logoutAtIdp } from '../helpers/idp-logout.js';
import { point } from '../helpers/otel.js';
import { loginAs, pageBrowser, startSigninApp } from '../signin/harness.js';
import { TestBrowser, type Watched, watchSignin } from './signin-fixture.js';

let w: Watched;
beforeAll(async () => {
  w = await watchSignin();
});
afterAll(() => w.close());
beforeEach(() => w.forget());

function one(name: string): ReadableSpan {
  const found = w.telemetry.spans().filter((s) => s.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/**
 * The IdP calls below `parent`, as `METHOD /path`, in the order they were made; a discovery or a JWKS
 * fetch is its own span with its calls below it, as `discovery: GET /.well-known/…` or `jwks: GET /jwks`.
 */
function idpCalls(parent: ReadableSpan): string[] {
  return w.telemetry
    .spans()
    .filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
    .map((s) => {
      expect(s.spanContext().traceId).toBe(parent.spanContext().traceId);
      const own = { 'portcullis.idp.discovery': 'discovery', 'portcullis.idp.jwks_fetch': 'jwks' }[s.name];
      if (own !== undefined) {
        expect(s.kind).toBe(SpanKind.INTERNAL);
        return `${own}: ${idpCalls(s).join(', ')}`;
      }
      expect(s.kind).toBe(SpanKind.CLIENT);
      return `${s.name} ${new URL(String(s.attributes['url.full'])).pathname}`;
    });
}

const types = () => w.events.map((e) => e.type);
const idpHost = () => new URL(w.idp.issuer).host;

describe('a login', () => {
  test('the login and callback are spans, the IdP calls HTTP client spans below them', async () => {
    const { result } = await loginAs(new TestBrowser(), w.app);
    expect(result.status).toBe(302);

    const login = one('portcullis.signin.login');
    expect(login.attributes).toMatchObject({ 'portcullis.provider': 'default', 'portcullis.silent': false });
    expect(idpCalls(login)).toEqual(['discovery: GET /.well-known/openid-configuration']);
    const callback = one('portcullis.signin.callback');
    expect(callback.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(callback.attributes).toMatchObject({ 'portcullis.provider': 'default' });
    expect(idpCalls(callback)).toEqual(['POST /token', 'jwks: GET /jwks', 'GET /me']);
    expect(one('portcullis.idp.jwks_fetch').attributes).toEqual({
      'portcullis.jwks.cause': 'initial',
      'portcullis.jwks.keys': expect.any(Number),
    });
    const token = w.telemetry.spans().find((s) => s.name === 'POST')!;
    expect(token.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'server.port': w.idp.port,
      'url.full': `${w.idp.issuer}/token`,
      'http.response.status_code': 200,
    });

    expect(types()).toEqual([
      'idp.discovery.fetched',
      'signin.login.started',
      'idp.token.completed',
      'idp.jwks.fetched',
      'signin.login.completed',
    ]);
    expect(w.events[1]).toEqual({
      type: 'signin.login.started',
      issuer: `${w.idp.issuer}/`,
      provider: 'default',
      silent: false,
    });
    expect(w.events[2]).toMatchObject({ grant: 'authorization_code', url: `${w.idp.issuer}/token` });
    expect(w.events[3]).toEqual({
      type: 'idp.jwks.fetched',
      url: `${w.idp.issuer}/jwks`,
      cause: 'initial',
      keys: expect.any(Number),
      durationMs: expect.any(Number),
    });
    expect(w.events[3]).toMatchObject({
      keys: one('portcullis.idp.jwks_fetch').attributes['portcullis.jwks.keys'],
    });
    expect(w.events[4]).toMatchObject({ sub: 'alice', provider: 'default', durationMs: expect.any(Number) });
    const fetched = { 'portcullis.jwks.cause': 'initial', 'server.address': idpHost() };
    expect((await point(w.telemetry, 'portcullis.idp.jwks.fetches', fetched))?.value).toBe(1);
    expect(w.published).toEqual(w.events);
  });

  test('logins count by outcome, token requests by grant and outcome, with their durations', async () => {
    await loginAs(new TestBrowser(), w.app);
    const started = { 'portcullis.outcome': 'started', 'portcullis.silent': false };
    expect((await point(w.telemetry, 'portcullis.signin.logins', started))?.value).toBe(1);
    const success = { 'portcullis.outcome': 'success' };
    expect((await point(w.telemetry, 'portcullis.signin.logins', success))?.value).toBe(1);
    const duration = await point(w.telemetry, 'portcullis.signin.login.duration', success);
    expect(duration?.value).toMatchObject({ count: 1 });
    const exchange = {
      'portcullis.grant_type': 'authorization_code',
      'portcullis.outcome': 'success',
      'server.address': idpHost(),
    };
    expect((await point(w.telemetry, 'portcullis.idp.token.requests', exchange))?.value).toBe(1);
    const took = await point(w.telemetry, 'portcullis.idp.token.request.duration', exchange);
    expect(took?.value).toMatchObject({ count: 1 });
    expect((await w.telemetry.metrics()).get('portcullis.idp.token.request.duration')?.unit).toBe('s');
    const calls = (await w.telemetry.metrics()).get('http.client.request.duration')?.points ?? [];
    // The token endpoint and userinfo: the discovery document and the JWKS are cached since the first login.
    expect(calls.reduce((n, p) => n + (p.value as { count: number }).count, 0)).toBe(2);
  });

  test('with PAR, the pushed request is an HTTP client span below the login', async () => {
    const par = await startSigninApp(w.idp, { options: { pushedAuthorizationRequests: true } });
    try {
      const { result } = await loginAs(new TestBrowser(), par);
      expect(result.status).toBe(302);
      expect(idpCalls(one('portcullis.signin.login'))).toEqual([
        'discovery: GET /.well-known/openid-configuration',
        'POST /request',
      ]);
    } finally {
      await par.close();
    }
  });

  test('a silent login the IdP declines is told as declined, not as a failure', async () => {
    const silent = await startSigninApp(w.idp, {
      options: { attemptSilentLogin: true, onEvent: (e) => w.events.push(e) },
      routes: (app) => app.get('/page', (_req, res) => res.type('html').send('<p>page</p>')),
    });
    try {
      const browser = pageBrowser();
      expect((await browser.follow(await browser.get(`${silent.baseURL}/page`))).body).toBe('<p>page</p>');
      expect(types()).toEqual(['idp.discovery.fetched', 'signin.login.started', 'signin.login.declined']);
      expect(w.events[1]).toMatchObject({ silent: true });
      expect(w.events[2]).toMatchObject({ provider: 'default', error: 'login_required' });
      expect(one('portcullis.signin.login').attributes['portcullis.silent']).toBe(true);
      expect(one('portcullis.signin.callback').status.code).not.toBe(SpanStatusCode.ERROR);
      const declined = { 'portcullis.outcome': 'declined', 'portcullis.silent': true };
      expect((await point(w.telemetry, 'portcullis.signin.logins', declined))?.value).toBe(1);
      const failed = { 'portcullis.outcome': 'failure' };
      expect(await point(w.telemetry, 'portcullis.signin.logins', failed)).toBeUndefined();
    } finally {
      await silent.close();
    }
  });

  test('a callback in another browser is refused: an error span and a failure, with the reason', async () => {
    const start = await new TestBrowser().get(`${w.app.baseURL}/login`);
    const at = new TestBrowser();
    const { callback } = await signInAtIdp(at, start.location!, { stopAtCallback: true });
    w.forget();
    const res = await new TestBrowser().get(callback.url);
    expect(res.status).toBe(400);

    const span = one('portcullis.signin.callback');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes).toMatchObject({
      'error.type': 'ERR_STATE_MISMATCH',
      'portcullis.reason': 'browser',
    });
    expect(idpCalls(span)).toEqual([]); // refused before the code went anywhere
    expect(w.events).toEqual([
      {
        type: 'signin.login.failed',
        reason: 'browser',
        expected: w.app.baseURL,
        received: null,
        code: 'ERR_STATE_MISMATCH',
        status: 400,
        durationMs: expect.any(Number),
      },
    ]);
    const failed = { 'portcullis.outcome': 'failure', 'portcullis.reason': 'browser' };
    expect((await point(w.telemetry, 'portcullis.signin.logins', failed))?.value).toBe(1);
    expect(w.published).toEqual(w.events);
  });
});

describe('a signed-in session', () => {
  let browser: TestBrowser;
  beforeEach(async () => {
    browser = new TestBrowser();
    await loginAs(browser, w.app);
    w.forget();
  });

  test('a signed-in request is no span, no event and no metric: only the steps are', async () => {
    for (let i = 0; i < 3; i++) {
      expect(JSON.parse((await browser.get(`${w.app.baseURL}/profile`)).body).user.sub).toBe('alice');
    }
    expect(w.telemetry.spans()).toEqual([]);
    expect(w.events).toEqual([]);
    expect([...(await w.telemetry.metrics()).values()].flatMap((m) => m.points)).toEqual([]);
  });

  test('a refresh is a span with the token request below it, and a rotation is told', async () => {
    expect((await browser.post(`${w.app.baseURL}/refresh`, {})).status).toBe(200);
    const refresh = one('portcullis.signin.refresh');
    expect(refresh.attributes).toMatchObject({
      'portcullis.provider': 'default',
      'portcullis.token.rotated': true,
    });
    expect(idpCalls(refresh)).toEqual(['POST /token']);
    expect(types()).toEqual(['idp.token.completed', 'signin.refresh.completed']);
    expect(w.events[0]).toMatchObject({ grant: 'refresh_token' });
    expect(w.events[1]).toMatchObject({ rotated: true, provider: 'default' });
    const success = { 'portcullis.outcome': 'success' };
    expect((await point(w.telemetry, 'portcullis.signin.refreshes', success))?.value).toBe(1);
    const grant = { 'portcullis.grant_type': 'refresh_token', 'portcullis.outcome': 'success' };
    expect((await point(w.telemetry, 'portcullis.idp.token.requests', grant))?.value).toBe(1);
    expect(w.published).toEqual(w.events);
  });

  test('a refresh the IdP refuses is an error span and a failed refresh', async () => {
    const { sessionID } = JSON.parse((await browser.get(`${w.app.baseURL}/me`)).body) as {
      sessionID: string;
    };
    const store = w.app.store;
    const session = await new Promise<{ portcullis: { tokens: { refresh_token: string } } }>((r) =>
      store.get(sessionID, (_e, s) => r(s as never)),
    );
    session.portcullis.tokens.refresh_token = 'a-refresh-token-the-idp-never-issued';
    await new Promise((r) => store.set(sessionID, session as never, r));
    expect((await browser.post(`${w.app.baseURL}/refresh`, {})).status).toBe(400);
    const refresh = one('portcullis.signin.refresh');
    expect(refresh.status.code).toBe(SpanStatusCode.ERROR);
    expect(types()).toEqual(['idp.token.failed', 'signin.refresh.failed']);
    expect(w.events[0]).toMatchObject({ grant: 'refresh_token', error: 'invalid_grant', status: 400 });
    expect(w.events[1]).toMatchObject({ code: 'ERR_OAUTH_RESPONSE', error: 'invalid_grant' });
    const failed = { 'portcullis.grant_type': 'refresh_token', 'portcullis.outcome': 'failure' };
    expect((await point(w.telemetry, 'portcullis.idp.token.requests', failed))?.value).toBe(1);
  });

  test('a logout is a span and a logout, sent on to the IdP', async () => {
    const res = await browser.get(`${w.app.baseURL}/logout`);
    expect(res.location).toMatch(new RegExp(`^${w.idp.issuer}/session/end`));
    const logout = one('portcullis.signin.logout');
    expect(logout.attributes).toMatchObject({
      'portcullis.provider': 'default',
      'portcullis.idp_logout': true,
    });
    // revokeOnLogout: the refresh and access tokens, revoked at the IdP within the logout.
    expect(idpCalls(logout)).toEqual(['POST /token/revocation', 'POST /token/revocation']);
    expect(w.events).toEqual([
      { type: 'signin.logout.completed', issuer: `${w.idp.issuer}/`, provider: 'default', idpLogout: true },
    ]);
    const rp = { 'portcullis.logout.kind': 'rp', 'portcullis.idp_logout': true };
    expect((await point(w.telemetry, 'portcullis.signin.logouts', rp))?.value).toBe(1);
  });

  test("the IdP's back-channel logout is a span, and a logout that ended the session", async () => {
    expect(await logoutAtIdp(w.idp, browser)).toEqual(['ok']);
    const span = one('portcullis.signin.backchannel_logout');
    expect(span.attributes).toMatchObject({
      'portcullis.provider': 'default',
      'portcullis.logout.sessions': 1,
    });
    expect(w.events).toEqual([
      {
        type: 'signin.backchannel_logout.completed',
        issuer: `${w.idp.issuer}/`,
        provider: 'default',
        sessions: 1,
      },
    ]);
    const ended = { 'portcullis.logout.kind': 'backchannel', 'portcullis.outcome': 'success' };
    expect((await point(w.telemetry, 'portcullis.signin.logouts', ended))?.value).toBe(1);
    expect(w.published).toEqual(w.events);
  });
});

describe('the IdP rotates its keys', () => {
  test('the next login refetches the JWKS for the new kid: told, spanned and counted as unknown_kid', async () => {
    const idp = await startIdp();
    const app = await startSigninApp(idp, { options: { onEvent: (event) => w.events.push(event) } });
    try {
      await loginAs(new TestBrowser(), app);
      await idp.rotateKeys();
      w.forget();
      const { result } = await loginAs(new TestBrowser(), app);
      expect(result.status).toBe(302);
      expect(w.events.filter((e) => e.type.startsWith('idp.jwks.'))).toEqual([
        {
          type: 'idp.jwks.fetched',
          url: `${idp.issuer}/jwks`,
          cause: 'unknown_kid',
          keys: expect.any(Number),
          durationMs: expect.any(Number),
        },
      ]);
      expect(one('portcullis.idp.jwks_fetch').attributes['portcullis.jwks.cause']).toBe('unknown_kid');
      const refetched = {
        'portcullis.jwks.cause': 'unknown_kid',
        'server.address': new URL(idp.issuer).host,
      };
      expect((await point(w.telemetry, 'portcullis.idp.jwks.fetches', refetched))?.value).toBe(1);
    } finally {
      await app.close();
      await idp.close();
    }
  });
});
