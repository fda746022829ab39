/**
 * Discovery under the real OpenTelemetry SDK, for bearer() and serviceAgent() as for auth(): each
 * fetch of the IdP's metadata is a `portcullis.idp.discovery` span under the step that needed it (a
 * verification, a token request), with its HTTP calls below it, an `idp.discovery.…` event on the
 * product's hook and channel, and a `portcullis.idp.discovery.fetches` count. None holds a token or secret.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import request from 'supertest';
import {
  type AgentEvent,
  type BearerEvent,
  bearer,
  type ServiceAgent,
  serviceAgent,
} from '../../lib/index.js';
import { loadOpenTelemetry } from '../../lib/protocol/observability/otel.js';
import { AUDIENCE, type KeyServer, startKeyServer } from '../helpers/key-server.js';
import { point, setUpTelemetry, type TestTelemetry } from '../helpers/otel.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';

const CLIENT_SECRET = 'discovery-test-secret-7f3b9c2e41d0';
const ISSUED = 'agent-token-b81d4e0c99a2f7';

let telemetry: TestTelemetry;
let ks: KeyServer;
let rogue: RogueIdp;
const agents: ServiceAgent[] = [];

beforeAll(async () => {
  telemetry = setUpTelemetry();
  await loadOpenTelemetry();
  [ks, rogue] = await Promise.all([startKeyServer(), startRogueIdp()]);
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  rogue.failWith = undefined;
  rogue.openidDiscovery = true;
  telemetry.reset();
});
afterAll(async () => {
  await Promise.all([ks.close(), rogue.close()]);
  await telemetry.shutdown();
});

const named = (name: string) => telemetry.spans().filter((s) => s.name === name);
const childrenOf = (parent: ReadableSpan) =>
  telemetry
    .spans()
    .filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
/** The HTTP calls below a span, as `METHOD path status`. */
const callsBelow = (parent: ReadableSpan) =>
  childrenOf(parent).map((s) => {
    expect(s.kind).toBe(SpanKind.CLIENT);
    const { pathname } = new URL(String(s.attributes['url.full']));
    return `${s.name} ${pathname} ${s.attributes['http.response.status_code']}`;
  });

/** An app whose requests are spans, as HTTP instrumentation makes them; bearer() finds its IdP by discovery. */
function protectedApp(issuerBaseURL: string, events: BearerEvent[]): express.Express {
  const app = express();
  app.use((req, res, next) => {
    trace.getTracer('test').startActiveSpan(`${req.method} ${req.path}`, (span) => {
      res.on('finish', () => span.end());
      next();
    });
  });
  app.use('/api', bearer({ issuerBaseURL, audience: AUDIENCE, onEvent: (e) => events.push(e) }));
  app.get('/api/me', (req, res) => {
    res.json({ sub: req.auth?.payload.sub });
  });
  return app;
}

function agent(events: AgentEvent[]): ServiceAgent {
  const a = serviceAgent({
    issuerBaseURL: rogue.issuer,
    clientID: 'svc',
    clientSecret: CLIENT_SECRET,
    retries: 0,
    onEvent: (e) => events.push(e),
  });
  agents.push(a);
  return a;
}

describe('bearer()', () => {
  test('the first verification fetches the metadata in a discovery span, its GET below it; an event and a count', async () => {
    const events: BearerEvent[] = [];
    const app = protectedApp(ks.issuer, events);
    const token = await ks.token();
    expect((await request(app).get('/api/me').set('authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await request(app).get('/api/me').set('authorization', `Bearer ${token}`)).status).toBe(200);

    const [miss] = named('portcullis.bearer.verify');
    expect(childrenOf(miss!).map((s) => s.name)).toEqual([
      'portcullis.idp.discovery',
      'portcullis.idp.jwks_fetch',
    ]);
    const [discovery] = named('portcullis.idp.discovery'); // once: the document is cached
    expect(discovery!.kind).toBe(SpanKind.INTERNAL);
    expect(discovery!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(callsBelow(discovery!)).toEqual(['GET /.well-known/openid-configuration 200']);

    expect(events.map((e) => e.type)).toEqual([
      'idp.discovery.fetched',
      'idp.jwks.fetched',
      'bearer.accepted',
      'bearer.accepted',
    ]);
    expect(events[0]).toEqual({
      type: 'idp.discovery.fetched',
      url: `${ks.issuer}/.well-known/openid-configuration`,
      durationMs: expect.any(Number),
    });
    const fetched = { 'server.address': new URL(ks.issuer).host, 'portcullis.outcome': 'success' };
    expect((await point(telemetry, 'portcullis.idp.discovery.fetches', fetched))?.value).toBe(1);

    const seen = [...(await telemetry.strings()), inspect(events, { depth: 10 })].join('\n');
    for (const piece of [token, ...token.split('.')]) expect(seen).not.toContain(piece);
  });

  test('an IdP that fails its discovery: an error span and idp.discovery.failed, then bearer.failed', async () => {
    const events: BearerEvent[] = [];
    rogue.failWith = 500;
    const app = protectedApp(rogue.issuer, events);
    const response = await request(app)
      .get('/api/me')
      .set('authorization', `Bearer ${await ks.token()}`);
    expect(response.status).toBe(503);

    const [discovery] = named('portcullis.idp.discovery');
    expect(discovery!.parentSpanContext?.spanId).toBe(
      named('portcullis.bearer.verify')[0]!.spanContext().spanId,
    );
    expect(discovery!.status.code).toBe(SpanStatusCode.ERROR);
    expect(discovery!.attributes['error.type']).toBe('ERR_IDP_UNAVAILABLE');
    expect(callsBelow(discovery!)).toEqual(['GET /.well-known/openid-configuration 500']);
    expect(events.map((e) => [e.type, 'code' in e ? e.code : undefined])).toEqual([
      ['idp.discovery.failed', 'ERR_IDP_UNAVAILABLE'],
      ['bearer.failed', 'ERR_IDP_UNAVAILABLE'],
    ]);
    const failed = { 'portcullis.outcome': 'failure', 'error.type': 'ERR_IDP_UNAVAILABLE' };
    expect((await point(telemetry, 'portcullis.idp.discovery.fetches', failed))?.value).toBe(1);
  });
});

describe('serviceAgent()', () => {
  test('discovery is a span under the token request, both well-known GETs below it; the channel hears it', async () => {
    rogue.openidDiscovery = false; // an RFC 8414 server: the OpenID document is a 404, then the OAuth one
    rogue.token = () => ({
      status: 200,
      body: { access_token: ISSUED, token_type: 'Bearer', expires_in: 300 },
    });
    const events: AgentEvent[] = [];
    const published: unknown[] = [];
    const listen = (message: unknown) => published.push(message);
    diagnostics_channel.subscribe('portcullis:agent', listen);
    try {
      const billing = agent(events);
      expect((await billing.getToken()).access_token).toBe(ISSUED);
      await billing.getToken();
    } finally {
      diagnostics_channel.unsubscribe('portcullis:agent', listen);
    }

    const [tokenRequest] = named('portcullis.agent.token_request');
    const [discovery] = named('portcullis.idp.discovery');
    expect(discovery!.parentSpanContext?.spanId).toBe(tokenRequest!.spanContext().spanId);
    expect(childrenOf(tokenRequest!).map((s) => s.name)).toEqual(['portcullis.idp.discovery', 'POST']);
    expect(callsBelow(discovery!)).toEqual([
      'GET /.well-known/openid-configuration 404',
      'GET /.well-known/oauth-authorization-server 200',
    ]);
    const fetched = events.filter((e) => e.type === 'idp.discovery.fetched');
    expect(fetched).toEqual([
      {
        type: 'idp.discovery.fetched',
        url: `${rogue.issuer}/.well-known/oauth-authorization-server`,
        durationMs: expect.any(Number),
      },
    ]);
    expect(events.map((e) => e.type)).toEqual([
      'agent.cache.missed',
      'idp.discovery.fetched',
      'agent.token.fetched',
      'agent.cache.hit',
    ]);
    expect(published).toEqual(events);
    const counted = { 'server.address': new URL(rogue.issuer).host, 'portcullis.outcome': 'success' };
    expect((await point(telemetry, 'portcullis.idp.discovery.fetches', counted))?.value).toBe(1);

    const sent = rogue.requests.findLast((r) => r.path === '/token')!.headers.authorization!;
    const seen = [...(await telemetry.strings()), inspect(events, { depth: 10, showHidden: true })].join(
      '\n',
    );
    for (const secret of [CLIENT_SECRET, ISSUED, sent, sent.replace(/^Basic /, '')]) {
      expect(seen).not.toContain(secret);
    }
  });

  test('a failed discovery: an error span and idp.discovery.failed, and the token request fails with its code', async () => {
    rogue.failWith = 503;
    const events: AgentEvent[] = [];
    await expect(agent(events).getToken()).rejects.toMatchObject({ code: 'ERR_IDP_UNAVAILABLE' });

    const [discovery] = named('portcullis.idp.discovery');
    expect(discovery!.status.code).toBe(SpanStatusCode.ERROR);
    expect(discovery!.attributes['error.type']).toBe('ERR_IDP_UNAVAILABLE');
    expect(callsBelow(discovery!)).toEqual(['GET /.well-known/openid-configuration 503']);
    expect(events.find((e) => e.type === 'idp.discovery.failed')).toMatchObject({
      url: `${rogue.issuer}/.well-known/openid-configuration`,
      code: 'ERR_IDP_UNAVAILABLE',
    });
    const failed = { 'portcullis.outcome': 'failure', 'error.type': 'ERR_IDP_UNAVAILABLE' };
    expect((await point(telemetry, 'portcullis.idp.discovery.fetches', failed))?.value).toBe(1);
  });
});
