/**
 * Property-based tests (fast-check) over every input surface of sign-in: callback queries and form
 * bodies, cookies, returnTo, and what an IdP may answer (token responses, JWKS and discovery
 * documents). Whatever arrives: never a 5xx that is not an honest "IdP unavailable", never a hang,
 * never an unhandled rejection, never a token or secret in a response.
 * FC_RUNS sets the number of cases per property (default 100 in CI; try 5000 locally).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { safeReturnTo } from '../../lib/signin/return-to.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';
import { type SigninApp, startSigninApp, TestBrowser } from './harness.js';

const RUNS = Number(process.env['FC_RUNS'] ?? 100);
const SECRET = 'property-client-secret-do-not-leak';
const LEAKS = [SECRET, 'AT-SECRET-VALUE', 'RT-SECRET-VALUE'];

let rogue: RogueIdp;
let app: SigninApp;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
const logged: string[] = [];
const LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;
const originals = LEVELS.map((level) => console[level]);

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  for (const level of LEVELS)
    console[level] = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
  rogue = await startRogueIdp();
  app = await startSigninApp(rogue, {
    options: { clientSecret: SECRET, httpTimeout: 1000, authorizationParams: { scope: 'openid' } },
  });
});
afterAll(async () => {
  await app.close();
  await rogue.close();
  process.off('unhandledRejection', onRejection);
  LEVELS.forEach((level, i) => {
    console[level] = originals[i]!;
  });
  expect(rejections).toEqual([]);
  // Never a token or secret in a log line.
  for (const line of logged) noLeak(line);
});

/** A status that is not a server bug: 2xx-4xx, or an honest 502/503 about the IdP. */
function honest(status: number): boolean {
  return status < 500 || status === 502 || status === 503;
}

function noLeak(text: string): void {
  for (const secret of LEAKS) expect(text).not.toContain(secret);
}

async function startLogin(browser: TestBrowser): Promise<string> {
  const start = await browser.get(`${app.baseURL}/login`);
  return new URL(start.location!).searchParams.get('state')!;
}

const text = fc.string({ unit: 'binary', maxLength: 300 });

describe('hostile requests', () => {
  test('any callback query', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('code', 'state', 'iss', 'error', 'error_description', 'x'), text),
        fc.boolean(),
        async (params, withRealState) => {
          const browser = new TestBrowser();
          if (withRealState) params['state'] = await startLogin(browser);
          const res = await browser.get(`${app.baseURL}/callback?${new URLSearchParams(params)}`);
          expect(res.status).toBeLessThan(500);
          noLeak(res.body);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('any callback POST body and content type', async () => {
    await fc.assert(
      fc.asyncProperty(
        text,
        fc.constantFrom(
          'application/x-www-form-urlencoded',
          'application/json',
          'text/plain',
          '',
          'multipart/form-data; boundary=x',
        ),
        async (body, type) => {
          const res = await fetch(`${app.baseURL}/callback`, {
            method: 'POST',
            headers: type ? { 'content-type': type } : {},
            body,
            redirect: 'manual',
          });
          expect(res.status).toBeLessThan(500);
          noLeak(await res.text());
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('any Cookie header and Accept header on every route', async () => {
    const printable = fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));
    await fc.assert(
      fc.asyncProperty(
        printable,
        printable,
        fc.constantFrom('/login', '/callback?state=x&code=y', '/logout', '/me', '/profile'),
        async (cookie, accept, path) => {
          const res = await fetch(`${app.baseURL}${path}`, {
            headers: { cookie, accept },
            redirect: 'manual',
          });
          expect(honest(res.status)).toBe(true);
          expect(res.status).not.toBe(500);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('returnTo: whatever is asked for, the user lands on this origin', () => {
    const base = new URL('https://app.example.com');
    fc.assert(
      fc.property(
        fc.oneof(
          text,
          fc.webUrl(),
          fc.webPath(),
          fc.string().map((s) => `/${s}`),
          fc.string().map((s) => `//${s}`),
        ),
        (value) => {
          const result = safeReturnTo(value, base);
          if (result === undefined) return;
          expect(result.startsWith('/')).toBe(true);
          expect(result.startsWith('//')).toBe(false);
          expect(new URL(result, base).origin).toBe(base.origin);
        },
      ),
      { numRuns: RUNS * 20 },
    );
  });
});

describe('hostile IdP answers', () => {
  const json = fc.oneof(
    fc.jsonValue(),
    fc.record(
      {
        access_token: fc.constant('AT-SECRET-VALUE'),
        refresh_token: fc.constant('RT-SECRET-VALUE'),
        token_type: fc.oneof(fc.constant('Bearer'), text),
        id_token: fc.oneof(text, fc.constant('a.b.c')),
        expires_in: fc.oneof(fc.integer(), fc.string()),
      },
      { requiredKeys: [] },
    ),
  );

  test('any token endpoint answer at the callback', async () => {
    await fc.assert(
      fc.asyncProperty(json, fc.constantFrom(200, 200, 400, 401, 500, 503), async (body, status) => {
        rogue.token = () => ({ status, body });
        const browser = new TestBrowser();
        const state = await startLogin(browser);
        const res = await browser.get(
          `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state, iss: rogue.issuer })}`,
        );
        expect(honest(res.status)).toBe(true);
        expect(
          res.status === 302 && JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated,
        ).toBe(false);
        noLeak(res.body);
      }),
      { numRuns: RUNS },
    );
  });

  test('any JWKS document', async () => {
    const original = rogue.keys;
    const realKey = original[0]!;
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (jwks) => {
        rogue.keys = [{ ...realKey, publicJwk: jwks as never }];
        const browser = new TestBrowser();
        const start = new URL((await browser.get(`${app.baseURL}/login`)).location!);
        const now = Math.floor(Date.now() / 1000);
        const idToken = await rogue.sign(
          {
            iss: rogue.issuer,
            aud: 'web',
            sub: 's',
            nonce: start.searchParams.get('nonce')!,
            iat: now,
            exp: now + 60,
          },
          { key: realKey },
        );
        rogue.token = () => ({
          status: 200,
          body: { access_token: 'AT-SECRET-VALUE', token_type: 'Bearer', id_token: idToken },
        });
        const res = await browser.get(
          `${app.baseURL}/callback?${new URLSearchParams({ code: 'c', state: start.searchParams.get('state')!, iss: rogue.issuer })}`,
        );
        expect(honest(res.status)).toBe(true);
        noLeak(res.body);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    rogue.keys = original;
  });

  test('any discovery document', async () => {
    const original = rogue.metadata;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record(
            {
              issuer: fc.oneof(fc.constant(rogue.issuer), text),
              authorization_endpoint: fc.oneof(fc.webUrl(), text),
              token_endpoint: fc.oneof(fc.webUrl(), text),
              jwks_uri: fc.oneof(fc.webUrl(), text),
            },
            { requiredKeys: [] },
          ),
        ),
        async (doc) => {
          rogue.metadata = doc as Record<string, unknown>;
          // A fresh app each time: discovery is cached once it succeeds.
          const fresh = await startSigninApp(rogue, { options: { clientSecret: SECRET, httpTimeout: 1000 } });
          try {
            const res = await fetch(`${fresh.baseURL}/login`, { redirect: 'manual' });
            expect(res.status === 302 || res.status === 503).toBe(true);
          } finally {
            await fresh.close();
          }
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    rogue.metadata = original;
  });
});
