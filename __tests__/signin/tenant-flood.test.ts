/**
 * A tenant flood through resolveProvider: 2,000 distinct tenants, each its own issuer (an IdP of our
 * own serves `/t/<n>` issuers on one port), each starting a login (discovery), one in ten finishing it
 * (token request, JWKS). The providers kept, with their metadata and keys, never exceed
 * `providerCacheMaxEntries`, and every evicted provider is garbage: nothing else holds it.
 *
 * Why WeakRefs and not heap figures: heapUsed of a jest worker moves by megabytes with what other
 * suites left behind (a 15 MB bound failed once at 17.7 MB with no leak), while a provider that is
 * still reachable keeps its WeakRef alive on every run.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { ResolvedProvider } from '../../lib/index.js';
import type { ProviderRegistry } from '../../lib/signin/provider-registry.js';
import { startTenantIdp, type TenantIdp } from '../helpers/tenant-idp.js';
import { type SigninApp, signinRuntime, startAuthApp, TestBrowser } from './harness.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TENANTS = 2_000;
const MAX_PROVIDERS = 50;
const BATCH = 25;

let idp: TenantIdp;
let app: SigninApp;
let registry: ProviderRegistry;
const nonces = new Map<string, string>();
const resolved = { count: 0 };
/** Each tenant's provider as built by auth(), held weakly. */
const built: WeakRef<object>[] = [];

beforeAll(async () => {
  idp = await startTenantIdp();
  idp.tokenAnswer = async (issuerPath) => {
    const n = issuerPath.slice('/t/'.length);
    const now = Math.floor(Date.now() / 1000);
    const idToken = await idp.sign({
      iss: idp.pathIssuer(n),
      aud: 'web',
      sub: `user-${n}`,
      nonce: nonces.get(n),
      iat: now,
      exp: now + 300,
    });
    return {
      status: 200,
      body: { access_token: `at-${n}`, token_type: 'Bearer', expires_in: 300, id_token: idToken },
    };
  };
  app = await startAuthApp(
    (baseURL) => ({
      baseURL,
      providerCacheMaxEntries: MAX_PROVIDERS,
      authorizationParams: { scope: 'openid' },
      // A new object on every call, as a resolver reading a database would return.
      resolveProvider: (_req, { providerId }): ResolvedProvider | undefined => {
        resolved.count++;
        const n = /^t(\d{1,5})$/.exec(providerId ?? '')?.[1];
        if (n === undefined) return undefined;
        return {
          id: `t${n}`,
          issuerBaseURL: idp.pathIssuer(n),
          clientID: 'web',
          clientSecret: 'tenant-secret-0123456789',
        };
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

/** Start tenant n's login; every tenth finishes it (the callback fetches a token and the JWKS). */
async function tenant(n: number): Promise<void> {
  const browser = new TestBrowser();
  const start = await browser.get(`${app.baseURL}/login?provider=t${n}`);
  expect(start.status).toBe(302);
  if (n % 10 !== 0) return;
  const url = new URL(start.location!);
  nonces.set(String(n), url.searchParams.get('nonce')!);
  const done = await browser.get(
    `${app.baseURL}/callback/t${n}?${new URLSearchParams({ code: `code-${n}`, state: url.searchParams.get('state')! })}`,
  );
  expect(done.status).toBe(302);
  expect(done.location).toBe(`${app.baseURL}/`);
  nonces.delete(String(n));
}

/** The provider auth() keeps for tenant n now (resolveProvider answers with the same definition). */
async function providerOf(n: number): Promise<object | undefined> {
  return registry.named({} as Parameters<ProviderRegistry['named']>[0], `t${n}`);
}

/** Collects until the WeakRefs of unreachable objects are cleared (they clear between macrotasks). */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test(`${TENANTS} distinct tenants: at most ${MAX_PROVIDERS} providers kept, and every evicted one is garbage`, async () => {
  let most = 0;
  for (let first = 0; first < TENANTS; first += BATCH) {
    await Promise.all(Array.from({ length: BATCH }, (_, i) => tenant(first + i)));
    // The batch's providers are all still kept (a batch is smaller than the bound): hold each weakly.
    for (let n = first; n < first + BATCH; n++) built[n] = new WeakRef((await providerOf(n))!);
    most = Math.max(most, registry.cachedCount);
    expect(registry.cachedCount).toBeLessThanOrEqual(MAX_PROVIDERS);
    app.store.clear(); // the flood's pending logins and sessions live in the app's session store
  }
  expect(most).toBe(MAX_PROVIDERS);
  // Every tenant's metadata was fetched once (providerOf() read the cache), and every finished login
  // fetched its tenant's keys.
  expect(idp.count('/t/')).toBe(TENANTS + TENANTS / 10); // discovery for all, a token request for a tenth
  expect(idp.count('/keys')).toBe(TENANTS / 10);

  await collect();
  const alive = built.flatMap((ref, n) => (ref.deref() === undefined ? [] : [n]));
  console.log(
    `tenant flood: ${TENANTS} tenants, providers kept at most ${most} (bound ${MAX_PROVIDERS}); ` +
      `${alive.length} of ${TENANTS} providers still reachable after GC, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MB`,
  );
  // The last MAX_PROVIDERS tenants are kept; each one before them, with its metadata and keys, is gone.
  expect(alive.every((n) => n >= TENANTS - MAX_PROVIDERS)).toBe(true);
  expect(alive.length).toBeLessThanOrEqual(MAX_PROVIDERS);

  // The most recent tenant is still cached; the first was evicted long ago and is fetched again.
  const discoveries = (n: number) => idp.hits.get(`/t/${n}/.well-known/openid-configuration`) ?? 0;
  await tenant(TENANTS - 1);
  expect(discoveries(TENANTS - 1)).toBe(1);
  await tenant(1);
  expect(discoveries(1)).toBe(2);
  expect(registry.cachedCount).toBe(MAX_PROVIDERS);
}, 120_000);
