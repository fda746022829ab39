/**
 * Two tabs of one browser open a protected page at the same moment with no session, as a browser
 * restoring its tabs after the session expired does, and both log in. Both `/profile` requests must
 * leave before either answer's binding cookie is stored; DevTools network emulation holds each
 * request of the two tabs on the wire for a while, so that they do however fast the demo answers, and
 * the check confirms from the requests' own `Cookie` headers that they did.
 */
import assert from 'node:assert/strict';
import type { BrowserContext, Page, Request } from 'playwright-core';

// Long enough for both tabs to have sent their request on a busy 2-core CI machine (600 ms once was not).
const LATENCY_MS = 1500;

async function emulateLatency(pages: Page[], latency: number): Promise<void> {
  for (const page of pages) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await cdp.detach();
  }
}

/** Sign in on the IdP's page, then wait for the app's answer (the profile, or an error page). */
async function signIn(page: Page, baseURL: string, user: string, password: string): Promise<void> {
  await page.fill('#login', user);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(baseURL), { waitUntil: 'load', timeout: 15_000 }),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

export async function twoTabsLogInAtOnce(
  newContext: () => Promise<BrowserContext>,
  baseURL: string,
  [user, password]: readonly [string, string],
  screenshot: (page: Page, name: string) => Promise<unknown>,
): Promise<void> {
  const context = await newContext();
  try {
    const pages = [await context.newPage(), await context.newPage()];
    const protectedRequests: Request[] = [];
    for (const page of pages) {
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/profile') protectedRequests.push(request);
      });
    }
    await emulateLatency(pages, LATENCY_MS);
    // Both tabs end on the IdP's sign-in page.
    await Promise.all(pages.map((page, i) => page.goto(`${baseURL}/profile?tab=${i + 1}`)));
    await emulateLatency(pages, 0);
    const sent = await Promise.all(
      protectedRequests.map(async (r) => (await r.allHeaders())['cookie'] ?? ''),
    );
    assert.equal(sent.length, 2, `two /profile requests: ${sent.length}`);
    assert.ok(
      sent.every((cookie) => !cookie.includes('portcullis.tx')),
      `both /profile requests left before either binding cookie was stored: ${JSON.stringify(sent)}`,
    );
    for (const [i, page] of pages.entries()) {
      await signIn(page, baseURL, user, password);
      await screenshot(page, `tab-${i + 1}`);
      const text = (await page.textContent('body')) ?? '';
      assert.equal(page.url(), `${baseURL}/profile?tab=${i + 1}`, `tab ${i + 1} lands on its page: ${text}`);
      assert.ok(!/ERR_[A-Z_]+/.test(text), `tab ${i + 1} shows no error: ${text}`);
      const claims = (await page.textContent('#claims')) ?? '';
      assert.ok(claims.includes(user), `tab ${i + 1} shows ${user} signed in: ${claims}`);
    }
  } finally {
    await context.close();
  }
}
