/**
 * Sign-in's ID token keys are fetched by jose; each fetch is still told with its cause, as bearer()'s
 * are: the first use, a `kid` jose did not know (the IdP rotated its keys), or keys older than ten
 * minutes. Driven against a real JWKS endpoint on loopback; the clock moved by replacing `Date.now`,
 * which jose reads too.
 */
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import * as jose from 'jose';
import { createIdTokenKeySet } from '../../lib/protocol/id-token.js';
import type { IdpEvent } from '../../lib/protocol/observability/events.js';
import { useKeyServer } from '../helpers/key-server.js';

const ks = useKeyServer({ freshKey: true });
afterEach(() => {
  jest.restoreAllMocks();
});

function watchedKeySet() {
  const events: IdpEvent[] = [];
  const http = { fetch: globalThis.fetch, timeout: 5000, allowInsecureHttp: true };
  const keys = createIdTokenKeySet(new URL(ks.jwksUri), http, (event) => events.push(event));
  return { events, keys };
}

const token = () => ks.token({ exp: Math.floor(Date.now() / 1000) + 7200 });
const causes = (events: IdpEvent[]) => events.map((e) => (e.type === 'idp.jwks.fetched' ? e.cause : e.type));

describe("the ID token keys' fetches, told with their cause", () => {
  test('the first use, then none while the keys are known', async () => {
    const { events, keys } = watchedKeySet();
    await jose.jwtVerify(await token(), keys);
    await jose.jwtVerify(await token(), keys);
    expect(events).toEqual([
      {
        type: 'idp.jwks.fetched',
        url: ks.jwksUri,
        cause: 'initial',
        keys: 1,
        durationMs: expect.any(Number),
      },
    ]);
    expect(ks.jwksHits).toBe(1);
  });

  test('a kid not known yet: the IdP rotated its keys', async () => {
    const { events, keys } = watchedKeySet();
    await jose.jwtVerify(await token(), keys);
    ks.rotate();
    await jose.jwtVerify(await token(), keys);
    expect(causes(events)).toEqual(['initial', 'unknown_kid']);
  });

  test('keys older than ten minutes', async () => {
    const { events, keys } = watchedKeySet();
    const signed = await token();
    await jose.jwtVerify(signed, keys);
    const later = Date.now() + 11 * 60_000;
    jest.spyOn(Date, 'now').mockImplementation(() => later);
    await jose.jwtVerify(signed, keys);
    expect(causes(events)).toEqual(['initial', 'expired']);
  });

  test('an answer that is no JWK Set is a failure, and the next use tries again as a first one', async () => {
    const { events, keys } = watchedKeySet();
    ks.mode = 'garbage';
    await expect(jose.jwtVerify(await token(), keys)).rejects.toThrow();
    ks.mode = 'ok';
    await jose.jwtVerify(await token(), keys);
    expect(events[0]).toEqual({
      type: 'idp.jwks.failed',
      url: ks.jwksUri,
      code: 'ERR_IDP_UNAVAILABLE',
      durationMs: expect.any(Number),
    });
    expect(causes(events)).toEqual(['idp.jwks.failed', 'initial']);
  });
});
