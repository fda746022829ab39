/**
 * A burst of concurrent first requests for a tenant auth() has not seen yet (resolveProvider): the
 * requests share one provider, so its IdP sees one discovery fetch and one key fetch, not one per
 * request. The sharing stops at the provider: every request still asks the resolver (its answer is
 * the request's own: a lookup that fails fails only its request), another tenant has its own
 * fetches and failures, and a failed discovery is remembered only briefly.
 *
 * The IdP (tenant-idp.ts) counts requests by path and holds a tenant's discovery answer until every
 * request of the burst has had its resolver's answer: the fetch is still in flight when the last
 * request wants the metadata.
 */
import { afterAll, beforeAll, beforeEach, expect, test } from '@jest/globals';
import type { ProviderRegistry } from '../../lib/signin/provider-registry.js';
import { startTenantIdp, type TenantIdp } from '../helpers/tenant-idp.js';
import { type SigninApp, signinRuntime, startAuthApp, TestBrowser } from './harness.js';

const BURST = 50;
const MAX_PROVIDERS = 3;

let idp: TenantIdp;
let app: SigninApp;
let registry: ProviderRegistry;
/** Every URL auth() called. */
const outbound: string[] = [];
/** The nonce of each pending login, by the code the IdP will issue for it. */
const nonces = new Map<string, string>();
const resolver = { asked: 0, answered: 0, waiting: [] as Array<{ target: number; open: () => void }> };

/**
 * Resolves once the resolver has answered `more` more times and the requests have moved on, or
 * after 2 s (a burst that never asks that often fails on its count, not on jest's timeout).
 */
function answered(more: number): Promise<void> {
  const target = resolver.answered + more;
  return new Promise((open) => {
    const late = setTimeout(open, 2000);
    resolver.waiting.push({
      target,
      open: () => {
        clearTimeout(late);
        setTimeout(open, 20);
      },
    });
  });
}

function heard(): void {
  resolver.answered++;
  for (const wait of resolver.waiting.filter((w) => resolver.answered >= w.target)) {
    resolver.waiting.splice(resolver.waiting.indexOf(wait), 1);
    wait.open();
  }
}

beforeAll(async () => {
  idp = await startTenantIdp();
  idp.tokenAnswer = async (issuerPath, form) => {
    const code = form.get('code')!;
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: `${idp.origin}${issuerPath}`, aud: 'web', sub: code, iat: now, exp: now + 300 };
    const idToken = await idp.sign({ ...claims, nonce: nonces.get(code) });
    return { status: 200, body: { access_token: `at-${code}`, token_type: 'Bearer', id_token: idToken } };
  };
  app = await startAuthApp(
    (baseURL) => ({
      baseURL,
      authorizationParams: { scope: 'openid' },
      providerCacheMaxEntries: MAX_PROVIDERS,
      fetch: (input, init) => {
        outbound.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      },
      // A tenant lookup (a new object per answer, as from a database), answering in another order
      // than asked. `?db=down` is a lookup that fails, `?gone` a tenant the lookup does not find.
      resolveProvider: async (req, { providerId }) => {
        resolver.asked++;
        await new Promise((resolve) => setTimeout(resolve, resolver.asked % 7));
        try {
          if (req.query['db'] === 'down') throw new Error('the tenant database is unreachable');
          const n = /^t(\d{1,3})$/.exec(providerId ?? '')?.[1];
          if (n === undefined || req.query['gone'] !== undefined) return undefined;
          return {
            id: `t${n}`,
            issuerBaseURL: idp.pathIssuer(n),
            clientID: 'web',
            clientSecret: 'secret-0123456789',
          };
        } finally {
          heard();
        }
      },
    }),
    {},
  );
  registry = signinRuntime(app).providers;
});
afterAll(async () => {
  await app.close();
  await idp.close();
});

beforeEach(() => {
  idp.discoveryAnswer = () => undefined;
});

const discoveries = (n: number) => idp.hits.get(`/t/${n}/.well-known/openid-configuration`) ?? 0;
const login = (browser: TestBrowser, query: string) => browser.get(`${app.baseURL}/login?${query}`);
const code = (res: { body: string }) => (JSON.parse(res.body) as { code?: string }).code;

test(`${BURST} concurrent first logins for a new tenant share one provider: one discovery fetch, one key fetch`, async () => {
  const held = answered(BURST);
  idp.discoveryAnswer = async () => {
    await held;
    return undefined;
  };
  const browsers = Array.from({ length: BURST }, () => new TestBrowser());
  const starts = await Promise.all(browsers.map((browser) => login(browser, 'provider=t1')));
  for (const start of starts) expect(start.location).toMatch(`${idp.pathIssuer(1)}/authorize?`);
  expect(resolver.asked).toBe(BURST); // each request asked: the answer is the request's own
  expect(discoveries(1)).toBe(1);
  expect(registry.cachedCount).toBe(1);

  // Ten of their callbacks, at once: the provider's keys are fetched once too.
  const done = await Promise.all(
    browsers.slice(0, 10).map((browser, i) => {
      const url = new URL(starts[i]!.location!);
      nonces.set(`code-${i}`, url.searchParams.get('nonce')!);
      const query = new URLSearchParams({ code: `code-${i}`, state: url.searchParams.get('state')! });
      return browser.get(`${app.baseURL}/callback/t1?${query}`);
    }),
  );
  expect(done.map((res) => res.location)).toEqual(done.map(() => `${app.baseURL}/`));
  expect(idp.count('/keys')).toBe(1);
  expect(discoveries(1)).toBe(1);
  // Only the issuer the resolver returned (and the keys its metadata names) was contacted.
  expect(outbound.filter((url) => !url.startsWith(`${idp.pathIssuer(1)}/`))).toEqual([`${idp.origin}/keys`]);
});

test('two new tenants at once: each its own single fetch, and one IdP failing fails only its tenant', async () => {
  const held = answered(40);
  idp.discoveryAnswer = async (issuerPath) => {
    await held;
    return issuerPath === '/t/2' ? { status: 503, body: { error: 'temporarily_unavailable' } } : undefined;
  };
  const tenants = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 2 : 3));
  const starts = await Promise.all(tenants.map((n) => login(new TestBrowser(), `provider=t${n}`)));
  starts.forEach((start, i) => {
    if (tenants[i] === 2) {
      expect(start.status).toBe(503);
      expect(code(start)).toBe('ERR_IDP_UNAVAILABLE');
    } else {
      expect(start.location).toMatch(`${idp.pathIssuer(3)}/authorize?`);
    }
  });
  expect([discoveries(2), discoveries(3)]).toEqual([1, 1]);
});

test('a failed discovery is remembered for a second (the IdP is not hammered), then asked again', async () => {
  const held = answered(10);
  idp.discoveryAnswer = async () => {
    await held;
    return { status: 503, body: { error: 'temporarily_unavailable' } };
  };
  const starts = await Promise.all(Array.from({ length: 10 }, () => login(new TestBrowser(), 'provider=t4')));
  expect(starts.map(code)).toEqual(starts.map(() => 'ERR_IDP_UNAVAILABLE'));
  expect(discoveries(4)).toBe(1);

  idp.discoveryAnswer = () => undefined; // the IdP is back, unasked
  expect(code(await login(new TestBrowser(), 'provider=t4'))).toBe('ERR_IDP_UNAVAILABLE');
  expect(discoveries(4)).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  expect((await login(new TestBrowser(), 'provider=t4')).location).toMatch(`${idp.pathIssuer(4)}/authorize?`);
  expect(discoveries(4)).toBe(2);
});

test('a resolver that throws or finds nothing fails only its own requests, and the next request asks again', async () => {
  // A burst whose every lookup fails: nothing is built or fetched, and nothing is remembered.
  const failed = await Promise.all(
    Array.from({ length: 10 }, () => login(new TestBrowser(), 'provider=t5&db=down')),
  );
  expect(failed.map((res) => res.status)).toEqual(failed.map(() => 500));
  expect(app.errors.at(-1)?.message).toBe('the tenant database is unreachable');
  expect(discoveries(5)).toBe(0);
  expect((await login(new TestBrowser(), 'provider=t5')).location).toMatch(`${idp.pathIssuer(5)}/authorize?`);

  // A burst for a new tenant where a third of the lookups fail and a third find nothing.
  const held = answered(30);
  idp.discoveryAnswer = async () => {
    await held;
    return undefined;
  };
  const queries = ['provider=t6&db=down', 'provider=t6&gone', 'provider=t6'];
  const asked = resolver.asked;
  const starts = await Promise.all(
    Array.from({ length: 30 }, (_, i) => login(new TestBrowser(), queries[i % 3]!)),
  );
  expect(resolver.asked - asked).toBe(30);
  starts.forEach((start, i) => {
    if (i % 3 === 0) expect(start.status).toBe(500);
    else if (i % 3 === 1) expect([start.status, code(start)]).toEqual([404, 'ERR_UNKNOWN_PROVIDER']);
    else expect(start.location).toMatch(`${idp.pathIssuer(6)}/authorize?`);
  });
  expect(discoveries(6)).toBe(1);
  // The provider is built now; a request whose lookup fails still fails, it is not served the cache.
  expect((await login(new TestBrowser(), queries[0]!)).status).toBe(500);
  expect(code(await login(new TestBrowser(), queries[1]!))).toBe('ERR_UNKNOWN_PROVIDER');
  expect((await login(new TestBrowser(), queries[2]!)).status).toBe(302);
  expect(registry.cachedCount).toBe(MAX_PROVIDERS); // six tenants so far, the bound kept
});
