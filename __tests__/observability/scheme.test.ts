/**
 * The shared observability core, with no product: an event goes to the hook, to its product's
 * diagnostics channel (only when someone listens) and to the OpenTelemetry metrics; every product's
 * events map to metrics without a claim value or a token; a missing `@opentelemetry/api` means no
 * telemetry and no error; and nothing in lib/ loads it but the one lazy import.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type { BearerEvent, SigninEvent } from '../../lib/index.js';
import { CHANNELS } from '../../lib/protocol/observability/channels.js';
import { createEmitter } from '../../lib/protocol/observability/emitter.js';
import { loadOpenTelemetry, otelLoader } from '../../lib/protocol/observability/otel.js';
import { point, setUpTelemetry, type TestTelemetry } from '../helpers/otel.js';

let telemetry: TestTelemetry;
beforeAll(async () => {
  telemetry = setUpTelemetry();
  await loadOpenTelemetry(); // as a product's first token request or login would wait for it
});
afterAll(() => telemetry.shutdown());

describe('the emitter', () => {
  test.each(Object.entries(CHANNELS))('%s events go out on %s, as the hook gets them', (product, name) => {
    const heard: unknown[] = [];
    const hooked: unknown[] = [];
    const listen = (message: unknown) => heard.push(message);
    diagnostics_channel.subscribe(name, listen);
    try {
      const emit = createEmitter(product as 'agent', (e) => hooked.push(e));
      const event = {
        type: 'idp.discovery.fetched',
        url: 'https://idp.example.com/',
        durationMs: 3,
      } as const;
      emit(event);
      expect(heard).toEqual([event]);
      expect(hooked).toEqual([event]);
    } finally {
      diagnostics_channel.unsubscribe(name, listen);
    }
  });

  test('publishes nothing on a channel without subscribers', () => {
    const channel = diagnostics_channel.channel('portcullis:bearer');
    const publish = jest.spyOn(channel, 'publish');
    try {
      createEmitter(
        'bearer',
        undefined,
      )({ type: 'bearer.failed', code: 'ERR_IDP_UNAVAILABLE', status: 503, durationMs: 1 });
      expect(publish).not.toHaveBeenCalled();
    } finally {
      publish.mockRestore();
    }
  });

  test('a hook that throws breaks nothing, and the channel still hears the event', () => {
    const heard: unknown[] = [];
    const listen = (message: unknown) => heard.push(message);
    diagnostics_channel.subscribe('portcullis:agent', listen);
    try {
      const emit = createEmitter('agent', () => {
        throw new Error('hook bug');
      });
      expect(() => emit({ type: 'agent.cache.missed', key: 'k' })).not.toThrow();
      expect(heard).toHaveLength(1);
    } finally {
      diagnostics_channel.unsubscribe('portcullis:agent', listen);
    }
  });
});

describe('metrics of every product, from their events', () => {
  test('a bearer refusal counts by reason, and carries neither what was expected nor what was received', async () => {
    telemetry.reset();
    const emit = createEmitter('bearer', undefined);
    const refused: BearerEvent = {
      type: 'bearer.rejected',
      reason: 'aud',
      expected: ['https://api.example.com'],
      received: 'https://other.example.com',
      status: 401,
      error: 'invalid_token',
      durationMs: 0.2,
    };
    emit(refused);
    emit({ type: 'bearer.accepted', scheme: 'Bearer', cached: true, durationMs: 0.1 });
    emit({
      type: 'idp.jwks.fetched',
      url: 'https://idp.example.com/jwks',
      cause: 'unknown_kid',
      keys: 2,
      durationMs: 40,
    });
    const rejected = { 'portcullis.outcome': 'rejected', 'portcullis.reason': 'aud' };
    expect((await point(telemetry, 'portcullis.bearer.verifications', rejected))?.value).toBe(1);
    const hit = { 'portcullis.outcome': 'accepted', 'portcullis.cache.result': 'hit' };
    expect((await point(telemetry, 'portcullis.bearer.verifications', hit))?.value).toBe(1);
    const refetch = { 'portcullis.jwks.cause': 'unknown_kid', 'server.address': 'idp.example.com' };
    expect((await point(telemetry, 'portcullis.idp.jwks.fetches', refetch))?.value).toBe(1);
    const all = (await telemetry.strings()).join('\n');
    expect(all).not.toContain('other.example.com');
    expect(all).not.toContain('https://api.example.com');
  });

  test('logins and refreshes count by outcome, with durations in seconds', async () => {
    telemetry.reset();
    const emit = createEmitter('signin', undefined);
    const events: SigninEvent[] = [
      { type: 'signin.login.started', silent: false },
      { type: 'signin.login.completed', sub: 'user-1234', durationMs: 1500 },
      {
        type: 'signin.login.failed',
        code: 'ERR_STATE_MISMATCH',
        reason: 'state',
        status: 400,
        durationMs: 2,
      },
      { type: 'signin.refresh.completed', rotated: true, durationMs: 80 },
    ];
    for (const event of events) emit(event);
    const success = { 'portcullis.outcome': 'success' };
    expect((await point(telemetry, 'portcullis.signin.logins', success))?.value).toBe(1);
    const failed = { 'portcullis.outcome': 'failure', 'error.type': 'ERR_STATE_MISMATCH' };
    expect((await point(telemetry, 'portcullis.signin.logins', failed))?.value).toBe(1);
    expect((await point(telemetry, 'portcullis.signin.login.duration', success))?.value).toMatchObject({
      count: 1,
      sum: 1.5,
    });
    expect((await point(telemetry, 'portcullis.signin.refreshes', success))?.value).toBe(1);
    expect((await telemetry.strings()).join('\n')).not.toContain('user-1234'); // the user is no attribute
  });

  test('metrics follow a meter provider registered after the product was created', async () => {
    const emit = createEmitter('agent', undefined);
    telemetry.reset(); // a new global meter provider
    emit({ type: 'agent.cache.hit', key: 'k', source: 'memory' });
    const hit = { 'portcullis.cache.result': 'hit' };
    expect((await point(telemetry, 'portcullis.agent.cache.lookups', hit))?.value).toBe(1);
  });
});

describe('without @opentelemetry/api', () => {
  test('a failed import means no telemetry, once, and no error', async () => {
    const importer = jest.fn(() => Promise.reject(new Error("Cannot find package '@opentelemetry/api'")));
    const loader = otelLoader(importer);
    expect(loader.now()).toBeUndefined();
    await expect(loader.load()).resolves.toBeNull();
    await expect(loader.load()).resolves.toBeNull();
    expect(loader.now()).toBeNull();
    expect(importer).toHaveBeenCalledTimes(1);
  });

  test('a module without the API it needs counts as absent', async () => {
    await expect(otelLoader(async () => ({ trace: {} })).load()).resolves.toBeNull();
    const api = await import('@opentelemetry/api');
    await expect(otelLoader(async () => ({ default: api })).load()).resolves.toBeTruthy();
  });

  test('lib/ imports @opentelemetry/api only as types, but for the one lazy import', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const loaders: string[] = [];
    for (const file of files('lib')) {
      const text = readFileSync(file, 'utf8');
      for (const [line] of text.matchAll(/^import (?!type ).*from '@opentelemetry\/[^']+';$/gm)) {
        throw new Error(`${file} loads OpenTelemetry at start-up: ${line}`);
      }
      if (/import\('@opentelemetry\/api'\)/.test(text)) loaders.push(file);
    }
    expect(loaders).toEqual([join('lib', 'protocol', 'observability', 'otel.ts')]);
  });
});
