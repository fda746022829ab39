/**
 * bearer() under the real OpenTelemetry SDK, against a real JWKS server: each verification is a span
 * under the request's, a cache miss with its IdP calls below it and a hit without; refusals, outages,
 * key rotation and introspection are events, spans and metrics; `onEvent` and the `portcullis:bearer`
 * channel hear the same events; and no span, metric, event or log line holds a token or a piece of one.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import request from 'supertest';
import { type BearerEvent, type BearerOptions, bearer } from '../../lib/index.js';
import { loadOpenTelemetry } from '../../lib/protocol/observability/otel.js';
import { AUDIENCE, useKeyServer } from '../helpers/key-server.js';
import { point, setUpTelemetry, type TestTelemetry } from '../helpers/otel.js';

let telemetry: TestTelemetry;
const ks = useKeyServer({ freshKey: true });
let events: BearerEvent[];
let logged: string[];

/** Every log line, as an operator's logger would keep it. */
const logger = {
  warn: (details: object, message: string) => logged.push(message, inspect(details)),
  info: (details: object, message: string) => logged.push(message, inspect(details)),
  error: (details: object, message: string) => logged.push(message, inspect(details)),
  debug: (details: object, message: string) => logged.push(message, inspect(details)),
};

/** An app whose requests are spans, as HTTP instrumentation would make them, with bearer() inside. */
function app(extra: BearerOptions = {}): express.Express {
  const api = express();
  api.use((req, res, next) => {
    trace.getTracer('test').startActiveSpan(`${req.method} ${req.path}`, (span) => {
      res.on('finish', () => span.end());
      next();
    });
  });
  api.use(
    '/api',
    bearer({
      issuer: ks.issuer,
      jwksUri: ks.jwksUri,
      audience: AUDIENCE,
      onEvent: (event) => events.push(event),
      logger,
      ...extra,
    }),
  );
  api.get('/api/me', (req, res) => {
    res.json({ sub: req.auth?.payload.sub });
  });
  return api;
}

const get = (target: express.Express, token: string) =>
  request(target).get('/api/me').set('authorization', `Bearer ${token}`);

const spans = (name: string) => telemetry.spans().filter((s) => s.name === name);
const childrenOf = (parent: ReadableSpan) =>
  telemetry.spans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

beforeAll(async () => {
  telemetry = setUpTelemetry();
  await loadOpenTelemetry(); // as the product does at creation, done before the first request
});
beforeEach(() => {
  events = [];
  logged = [];
  telemetry.reset();
});
afterAll(() => telemetry.shutdown());

describe('a verification', () => {
  test('a miss is a span under the request, with the JWKS fetch and its HTTP call below it; a hit, a span alone', async () => {
    const api = app();
    const token = await ks.token();
    expect((await get(api, token)).status).toBe(200);
    expect((await get(api, token)).status).toBe(200);

    const [miss, hit] = spans('portcullis.bearer.verify');
    expect(miss!.attributes).toEqual({
      'portcullis.outcome': 'accepted',
      'portcullis.auth.scheme': 'Bearer',
      'portcullis.cache.result': 'miss',
    });
    expect(hit!.attributes['portcullis.cache.result']).toBe('hit');
    const [firstRequest, secondRequest] = spans('GET /api/me');
    expect(miss!.parentSpanContext?.spanId).toBe(firstRequest!.spanContext().spanId);
    expect(hit!.parentSpanContext?.spanId).toBe(secondRequest!.spanContext().spanId);

    const [fetch] = childrenOf(miss!);
    expect(fetch!.name).toBe('portcullis.idp.jwks_fetch');
    expect(fetch!.attributes).toEqual({ 'portcullis.jwks.cause': 'initial', 'portcullis.jwks.keys': 1 });
    const [http] = childrenOf(fetch!);
    expect(http!.kind).toBe(SpanKind.CLIENT);
    expect(http!.attributes).toMatchObject({ 'url.full': ks.jwksUri, 'http.response.status_code': 200 });
    expect(childrenOf(hit!)).toEqual([]);
    expect(spans('portcullis.idp.jwks_fetch')).toHaveLength(1);
  });

  test('counts verdicts by outcome and cache result, their durations, and JWKS fetches by cause', async () => {
    const meter = metrics.getMeterProvider().getMeter('portcullis');
    const observed = jest.spyOn(meter, 'createObservableCounter');
    const counted = jest.spyOn(meter, 'createCounter');
    const api = app();
    const token = await ks.token();
    await get(api, token);
    await get(api, token);
    await get(api, token);

    const accepted = { 'portcullis.outcome': 'accepted', 'portcullis.auth.scheme': 'Bearer' };
    const miss = { ...accepted, 'portcullis.cache.result': 'miss' };
    const hit = { ...accepted, 'portcullis.cache.result': 'hit' };
    expect((await point(telemetry, 'portcullis.bearer.verifications', miss))?.value).toBe(1);
    expect((await point(telemetry, 'portcullis.bearer.verifications', hit))?.value).toBe(2);
    // One verdict per request: observed when the SDK collects, so that a hit pays an increment, not the SDK.
    expect(observed.mock.calls.map(([name]) => name)).toEqual(['portcullis.bearer.verifications']);
    expect(counted.mock.calls.map(([name]) => name)).not.toContain('portcullis.bearer.verifications');
    const durations = await point(telemetry, 'portcullis.bearer.verification.duration', hit);
    expect(durations?.value).toMatchObject({ count: 2 });
    expect((await telemetry.metrics()).get('portcullis.bearer.verification.duration')?.unit).toBe('s');
    const initial = { 'portcullis.jwks.cause': 'initial', 'portcullis.outcome': 'success' };
    expect((await point(telemetry, 'portcullis.idp.jwks.fetches', initial))?.value).toBe(1);
    expect(events.map((e) => e.type)).toEqual([
      'idp.jwks.fetched',
      'bearer.accepted',
      'bearer.accepted',
      'bearer.accepted',
    ]);
    expect(events.filter((e) => e.type === 'bearer.accepted').map((e) => e.cached)).toEqual([
      false,
      true,
      true,
    ]);
  });

  test('a cache hit is answered in the same tick, span and all', async () => {
    const protect = bearer({ issuer: ks.issuer, jwksUri: ks.jwksUri, audience: AUDIENCE, onEvent: () => {} });
    const token = await ks.token();
    const socket = new Socket();
    const req = () => {
      const r = new IncomingMessage(socket);
      r.headers = { authorization: `Bearer ${token}` };
      r.url = '/api/me';
      r.method = 'GET';
      return r;
    };
    await new Promise<void>((resolve) => protect(req(), new ServerResponse(req()), () => resolve()));
    let through = false;
    protect(req(), new ServerResponse(req()), () => {
      through = true;
    });
    expect(through).toBe(true);
    expect(spans('portcullis.bearer.verify').map((s) => s.attributes['portcullis.cache.result'])).toEqual([
      'miss',
      'hit',
    ]);
  });
});

describe('what went wrong', () => {
  test('a refusal: its reason, what was expected and what was received in the event; only the reason elsewhere', async () => {
    const api = app();
    const response = await get(api, await ks.token({ aud: 'https://other.example' }));
    expect(response.status).toBe(401);
    expect(events.at(-1)).toMatchObject({
      type: 'bearer.rejected',
      reason: 'aud',
      expected: [AUDIENCE],
      received: 'https://other.example',
      status: 401,
      error: 'invalid_token',
    });
    const [verify] = spans('portcullis.bearer.verify');
    expect(verify!.attributes).toEqual({ 'portcullis.outcome': 'rejected', 'portcullis.reason': 'aud' });
    expect(verify!.status.code).not.toBe(SpanStatusCode.ERROR); // the client's mistake, not ours
    const rejected = { 'portcullis.outcome': 'rejected', 'portcullis.reason': 'aud' };
    expect((await point(telemetry, 'portcullis.bearer.verifications', rejected))?.value).toBe(1);
    const stored = (await telemetry.strings()).join('\n');
    expect(stored).not.toContain('other.example');
  });

  test('no token: rejected as missing, without an error code', async () => {
    const response = await request(app()).get('/api/me');
    expect(response.status).toBe(401);
    expect(events).toEqual([
      expect.objectContaining({ type: 'bearer.rejected', reason: 'missing', status: 401, error: undefined }),
    ]);
  });

  test('a key rotation: the refetch is a child of the verification that needed it, its cause unknown_kid', async () => {
    const api = app({ jwksCooldown: 0 });
    await get(api, await ks.token());
    ks.rotate();
    expect((await get(api, await ks.token())).status).toBe(200);

    const second = spans('portcullis.bearer.verify')[1]!;
    const [refetch] = childrenOf(second);
    expect(refetch!.name).toBe('portcullis.idp.jwks_fetch');
    expect(refetch!.attributes['portcullis.jwks.cause']).toBe('unknown_kid');
    expect(childrenOf(refetch!).map((s) => s.kind)).toEqual([SpanKind.CLIENT]);
    expect(events.filter((e) => e.type === 'idp.jwks.fetched')).toEqual([
      expect.objectContaining({ cause: 'initial', keys: 1, url: ks.jwksUri }),
      expect.objectContaining({ cause: 'unknown_kid', keys: 1, url: ks.jwksUri }),
    ]);
    const refetched = { 'portcullis.jwks.cause': 'unknown_kid', 'portcullis.outcome': 'success' };
    expect((await point(telemetry, 'portcullis.idp.jwks.fetches', refetched))?.value).toBe(1);
  });

  test('an unreachable JWKS: bearer.failed with its code, and error spans', async () => {
    ks.mode = 'down';
    const response = await get(app(), await ks.token());
    expect(response.status).toBe(503);
    expect(events.map((e) => e.type)).toEqual(['idp.jwks.failed', 'bearer.failed']);
    expect(events.at(-1)).toMatchObject({ code: 'ERR_IDP_UNAVAILABLE', status: 503 });
    const [verify] = spans('portcullis.bearer.verify');
    expect(verify!.status.code).toBe(SpanStatusCode.ERROR);
    expect(verify!.attributes).toMatchObject({
      'portcullis.outcome': 'failed',
      'error.type': 'ERR_IDP_UNAVAILABLE',
    });
    expect(childrenOf(verify!)[0]!.status.code).toBe(SpanStatusCode.ERROR);
    const failed = { 'portcullis.outcome': 'failed', 'error.type': 'ERR_IDP_UNAVAILABLE' };
    expect((await point(telemetry, 'portcullis.bearer.verifications', failed))?.value).toBe(1);
  });
});

describe('introspection', () => {
  const opaque = (response: Record<string, unknown>): string => {
    const token = `opaque-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    ks.introspection.set(token, response);
    return token;
  };
  const api = () =>
    app({
      issuer: undefined,
      jwksUri: undefined,
      issuerBaseURL: ks.issuer,
      introspection: { clientID: 'api', clientSecret: 'api-secret' },
    });

  test('each call is a child span with its HTTP call, and an event; an answer from memory is one too', async () => {
    const target = api();
    const exp = Math.floor(Date.now() / 1000) + 300;
    const good = opaque({ active: true, iss: ks.issuer, aud: AUDIENCE, sub: 'user-1', exp });
    expect((await get(target, good)).status).toBe(200);
    const revoked = opaque({ active: false });
    expect((await get(target, revoked)).status).toBe(401);
    expect((await get(target, revoked)).status).toBe(401);

    const introspections = events.filter((e) => e.type === 'idp.introspection.completed');
    expect(introspections.map((e) => [e.active, e.cached])).toEqual([
      [true, false],
      [false, false],
      [false, true],
    ]);
    expect(introspections[0]!.url).toBe(`${ks.issuer}/introspect`);
    const [verify] = spans('portcullis.bearer.verify');
    const introspection = childrenOf(verify!).find((s) => s.name === 'portcullis.idp.introspection')!;
    expect(introspection.attributes).toEqual({ 'portcullis.introspection.active': true });
    expect(childrenOf(introspection).map((s) => [s.kind, s.name])).toEqual([[SpanKind.CLIENT, 'POST']]);
    const remembered = { 'portcullis.introspection.active': false, 'portcullis.cache.result': 'hit' };
    expect((await point(telemetry, 'portcullis.idp.introspections', remembered))?.value).toBe(1);
  });
});

describe('the outlets', () => {
  test('onEvent and the portcullis:bearer channel hear the same events', async () => {
    const published: unknown[] = [];
    const listen = (message: unknown) => published.push(message);
    diagnostics_channel.subscribe('portcullis:bearer', listen);
    try {
      const api = app();
      const token = await ks.token();
      await get(api, token);
      await get(api, token);
      await get(api, await ks.token({ exp: Math.floor(Date.now() / 1000) - 60 }));
      await request(api).get('/api/me');
      expect(events.map((e) => e.type)).toEqual([
        'idp.jwks.fetched',
        'bearer.accepted',
        'bearer.accepted',
        'bearer.rejected',
        'bearer.rejected',
      ]);
      expect(published).toEqual(events);
    } finally {
      diagnostics_channel.unsubscribe('portcullis:bearer', listen);
    }
  });

  test('no span, metric, event, channel message or log line holds a token, or a piece of one', async () => {
    const published: unknown[] = [];
    const listen = (message: unknown) => published.push(message);
    diagnostics_channel.subscribe('portcullis:bearer', listen);
    try {
      const api = app({ jwksCooldown: 0 });
      const good = await ks.token();
      const foreign = await ks.token({ aud: 'https://other.example' });
      const expired = await ks.token({ exp: Math.floor(Date.now() / 1000) - 60 });
      const unknownKey = await ks.token({}, { kid: 'no-such-key' });
      const tokens = [good, foreign, expired, unknownKey];
      for (const token of tokens) await get(api, token);
      await get(api, good); // a hit
      // A token sent without its scheme: the first word of the header is the token itself.
      await request(api).get('/api/me').set('authorization', good);
      await request(api).get('/api/me').set('authorization', `${good} trailing`);
      expect(events.filter((e) => e.type === 'bearer.rejected').map((e) => e.reason)).toEqual([
        'aud',
        'exp',
        'kid',
        'request',
        'request',
      ]);

      const seen = [
        ...(await telemetry.strings()),
        JSON.stringify(events),
        inspect(events, { depth: 10, showHidden: true }),
        inspect(published, { depth: 10, showHidden: true }),
        ...logged,
      ].join('\n');
      expect(logged.length).toBeGreaterThan(0);
      expect(published).toEqual(events);
      for (const token of tokens) {
        // The whole token, each of its parts, their ends, in any case.
        const [header, payload, signature] = token.split('.') as [string, string, string];
        const pieces = [token, header, payload, signature, payload.slice(0, 40), signature.slice(-40)];
        for (const piece of pieces) {
          expect(seen).not.toContain(piece);
          expect(seen.toLowerCase()).not.toContain(piece.toLowerCase());
        }
      }
    } finally {
      diagnostics_channel.unsubscribe('portcullis:bearer', listen);
    }
  });
});
