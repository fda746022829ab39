/**
 * serviceAgent() under the real OpenTelemetry SDK: a token request is a span, a child of the
 * caller's span, with the IdP call as an HTTP client span below it; token requests, cache lookups
 * and IdP call durations are metrics. And no span, metric or event holds a secret or token.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { metrics as otelMetrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type AgentEvent, type ServiceAgent, serviceAgent } from '../../lib/index.js';
import { point, setUpTelemetry, type TestTelemetry } from '../helpers/otel.js';
import { startRogueIdp } from '../helpers/rogue-idp.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  type ResourceServer,
  startResourceServer,
  startTokenServer,
  type TokenServer,
} from '../helpers/token-server.js';

let telemetry: TestTelemetry;
let tokens: TokenServer;
let api: ResourceServer;
const agents: ServiceAgent[] = [];
let events: AgentEvent[];
/** The credentials the agent sent to the IdP, exactly as sent (`Basic …`, percent-encoded first). */
const sentCredentials = new Set<string>();

/** The platform fetch, noting the Authorization header of every call to the IdP. */
const noting: typeof fetch = (input, init) => {
  const authorization = new Headers(init?.headers).get('authorization');
  if (authorization !== null) sentCredentials.add(authorization.replace(/^Basic /, ''));
  return fetch(input, init);
};

function agent(extra: Parameters<typeof serviceAgent>[0] = {}): ServiceAgent {
  const a = serviceAgent({
    tokenEndpoint: tokens.tokenEndpoint,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    httpTimeout: 500,
    retries: 0,
    fetch: noting,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  agents.push(a);
  return a;
}

/** Run `fn` inside a span of our own, as a request handler of an instrumented server would. */
function inCaller<T>(fn: () => Promise<T>): Promise<{ result: T; traceId: string; spanId: string }> {
  return trace.getTracer('test').startActiveSpan('GET /orders', async (span) => {
    try {
      const result = await fn();
      return { result, ...span.spanContext() };
    } finally {
      span.end();
    }
  });
}

beforeAll(async () => {
  telemetry = setUpTelemetry();
  tokens = await startTokenServer();
  api = await startResourceServer(tokens);
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  tokens.faults.length = 0;
  telemetry.reset();
  events = [];
});
afterAll(async () => {
  await api.close();
  await tokens.close();
  await telemetry.shutdown();
});

describe('an agent token request', () => {
  test('is a span under the caller, with the IdP call as an HTTP client span under it', async () => {
    events = [];
    const billing = agent();
    const caller = await inCaller(() => billing.getToken());
    const spans = telemetry.spans();
    const request = spans.find((s) => s.name === 'portcullis.agent.token_request')!;
    expect(request).toBeDefined();
    expect(request.spanContext().traceId).toBe(caller.traceId);
    expect(request.parentSpanContext?.spanId).toBe(caller.spanId);
    expect(request.attributes).toMatchObject({
      'portcullis.grant_type': 'client_credentials',
      'portcullis.background': false,
      'portcullis.token.expires_in': 3600,
    });
    expect(request.status.code).not.toBe(SpanStatusCode.ERROR);

    const http = spans.find((s) => s.kind === SpanKind.CLIENT)!;
    expect(http.name).toBe('POST');
    expect(http.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    const endpoint = new URL(tokens.tokenEndpoint);
    expect(http.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'server.port': Number(endpoint.port),
      'url.full': endpoint.href,
      'http.response.status_code': 200,
    });
  });

  test('counts token requests by grant and outcome, their durations, and cache lookups', async () => {
    events = [];
    const meter = otelMetrics.getMeterProvider().getMeter('portcullis');
    const observed = jest.spyOn(meter, 'createObservableCounter');
    const counted = jest.spyOn(meter, 'createCounter');
    const billing = agent();
    await billing.getToken();
    await billing.getToken();
    await billing.getToken();

    const outcome = { 'portcullis.grant_type': 'client_credentials', 'portcullis.outcome': 'success' };
    expect((await point(telemetry, 'portcullis.agent.token.requests', outcome))?.value).toBe(1);
    const duration = await point(telemetry, 'portcullis.agent.token.request.duration', outcome);
    expect(duration?.value).toMatchObject({ count: 1 });
    const metrics = await telemetry.metrics();
    expect(metrics.get('portcullis.agent.token.request.duration')?.unit).toBe('s');
    const hits = { 'portcullis.cache.result': 'hit', 'portcullis.cache.source': 'memory' };
    expect((await point(telemetry, 'portcullis.agent.cache.lookups', hits))?.value).toBe(2);
    const misses = { 'portcullis.cache.result': 'miss' };
    expect((await point(telemetry, 'portcullis.agent.cache.lookups', misses))?.value).toBe(1);
    // One lookup per call: observed when the SDK collects, so that a call pays an increment, not the SDK.
    expect(observed.mock.calls.map(([name]) => name)).toEqual(['portcullis.agent.cache.lookups']);
    expect(counted.mock.calls.map(([name]) => name)).not.toContain('portcullis.agent.cache.lookups');
    const idpCall = { 'server.address': '127.0.0.1', 'http.response.status_code': 200 };
    expect((await point(telemetry, 'http.client.request.duration', idpCall))?.value).toMatchObject({
      count: 1,
    });
  });

  test('a refused token request is an error span and a failure, named by its code', async () => {
    events = [];
    tokens.faults.push('invalid_client');
    await expect(agent().getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_REQUEST_FAILED' });
    const request = telemetry.spans().find((s) => s.name === 'portcullis.agent.token_request')!;
    expect(request.status.code).toBe(SpanStatusCode.ERROR);
    expect(request.attributes['error.type']).toBe('ERR_TOKEN_REQUEST_FAILED');
    const http = telemetry.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(http.attributes).toMatchObject({ 'http.response.status_code': 401, 'error.type': '401' });
    const failed = { 'portcullis.outcome': 'failure', 'error.type': 'ERR_TOKEN_REQUEST_FAILED' };
    expect((await point(telemetry, 'portcullis.agent.token.requests', failed))?.value).toBe(1);
    expect(events.at(-1)).toMatchObject({ type: 'agent.token.failed', code: 'ERR_TOKEN_REQUEST_FAILED' });
  });
});

describe('no secret anywhere', () => {
  test('no span, metric, event or channel message holds the client secret or a token', async () => {
    events = [];
    const published: unknown[] = [];
    const listen = (message: unknown) => published.push(message);
    diagnostics_channel.subscribe('portcullis:agent', listen);
    try {
      const billing = agent();
      const attached = billing.attach((await import('axios')).default.create({ baseURL: api.url }));
      const first = (await inCaller(() => billing.getToken())).result.access_token;
      api.rejectNext = 1; // a 401 invalid_token: the token is dropped, a new one fetched, the call retried
      expect((await attached.get('/orders')).status).toBe(200);
      expect(events.map((e) => e.type)).toContain('agent.call.retried');
      const second = (await billing.getToken()).access_token;
      expect(second).not.toBe(first);
      tokens.faults.push('invalid_client');
      await billing.invalidate();
      await expect(billing.getToken()).rejects.toBeDefined();

      // client_secret_basic: the credential as sent, and the secret itself.
      const secrets = [CLIENT_SECRET, ...sentCredentials, first, second];
      expect(sentCredentials.size).toBeGreaterThan(0);
      const seen = [
        ...(await telemetry.strings()),
        JSON.stringify(events),
        inspect(events, { depth: 10, showHidden: true }),
        inspect(published, { depth: 10, showHidden: true }),
      ];
      expect(published).toEqual(events); // the channel carries exactly what onEvent got
      expect(telemetry.spans().length).toBeGreaterThanOrEqual(4);
      for (const text of seen) for (const secret of secrets) expect(text).not.toContain(secret);
    } finally {
      diagnostics_channel.unsubscribe('portcullis:agent', listen);
    }
  });

  test('a token exchange names its grant, and holds neither the subject token nor the issued one', async () => {
    events = [];
    const rogue = await startRogueIdp();
    rogue.token = (form) => ({
      status: 200,
      body: {
        access_token: `downstream-${form.get('subject_token')}`,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: 300,
      },
    });
    try {
      const orders = agent({ tokenEndpoint: `${rogue.issuer}/token`, tokenExchange: true });
      const subject = 'user-access-token-3f9a7c';
      const issued = (await inCaller(() => orders.onBehalfOf(subject).getToken())).result.access_token;
      const request = telemetry.spans().find((s) => s.name === 'portcullis.agent.token_request')!;
      expect(request.attributes['portcullis.grant_type']).toBe('token_exchange');
      const outcome = { 'portcullis.grant_type': 'token_exchange', 'portcullis.outcome': 'success' };
      expect((await point(telemetry, 'portcullis.agent.token.requests', outcome))?.value).toBe(1);
      expect(events.find((e) => e.type === 'agent.token.fetched')).toMatchObject({ grant: 'token_exchange' });
      const seen = [...(await telemetry.strings()), inspect(events, { depth: 10, showHidden: true })];
      for (const text of seen) {
        for (const secret of [subject, issued, CLIENT_SECRET, ...sentCredentials]) {
          expect(text).not.toContain(secret);
        }
      }
    } finally {
      await rogue.close();
    }
  });
});
