/**
 * attemptSilentLogin in a real browser: Debian's Chromium, driven by playwright-core, against
 * oidc-provider and an app with `auth({ attemptSilentLogin: true })`. What jest's fetch-based browser
 * cannot show: that Chromium's own navigations (`Sec-Fetch-Dest: document`) are the ones sent to the
 * IdP, and its `fetch()` calls (`Sec-Fetch-Dest: empty`) are not.
 *
 *   node --import tsx __tests__/browser/silent-login.ts   (the second half of `npm run test:browser`)
 *
 * 1. a first visit goes to the IdP once with prompt=none and lands back on the page, signed out;
 * 2. the next visit stays here; 3. after a login at the IdP, a lost app session is renewed silently;
 * 4. a page's fetch() of an HTML page is not sent, and does not use up the attempt.
 */
import express from 'express';
import session from 'express-session';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { auth } from '../../lib/index.js';
import { startApp } from '../helpers/app.js';
import { startIdp, WEB_SECRET } from '../helpers/idp.js';

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const idp = await startIdp();
const app = await startApp((baseURL) => {
  idp.allowApp(baseURL);
  const server = express();
  server.use(session({ secret: 'browser-check', resave: false, saveUninitialized: false, name: 'sid' }));
  server.use(
    auth({
      issuerBaseURL: idp.issuer,
      baseURL,
      clientID: 'web',
      clientSecret: WEB_SECRET,
      attemptSilentLogin: true,
    }),
  );
  server.get('/page', (req, res) => {
    res
      .type('html')
      .send(`<p id="who">${req.oidc.isAuthenticated() ? `in: ${req.oidc.user?.sub}` : 'out'}</p>`);
  });
  return server;
});

/** prompt=none requests the browser made to the IdP. */
const silentTrips: string[] = [];
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox'],
});
let failed = false;

async function check(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    console.log(`  ✓ ${name}`);
  } catch (error) {
    failed = true;
    console.log(`  ✗ ${name}\n    ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === idp.issuer && url.searchParams.get('prompt') === 'none')
      silentTrips.push(request.url());
  });
  return { context, page };
}

const who = async (page: Page) => (await page.locator('#who').textContent()) ?? '';

try {
  const { context, page } = await newPage();
  await check('a first visit goes to the IdP once with prompt=none, and lands back signed out', async () => {
    await page.goto(`${app.baseURL}/page?first=1`);
    assert(page.url() === `${app.baseURL}/page?first=1`, `landed at ${page.url()}`);
    assert((await who(page)) === 'out', `shows ${await who(page)}`);
    assert(silentTrips.length === 1, `${silentTrips.length} silent trips`);
  });
  await check('the next visit stays here', async () => {
    await page.goto(`${app.baseURL}/page`);
    assert((await who(page)) === 'out' && silentTrips.length === 1, `${silentTrips.length} silent trips`);
  });
  await check('after a login at the IdP, a lost app session is renewed silently', async () => {
    await page.goto(`${app.baseURL}/login?returnTo=%2Fpage`);
    await page.fill('input[name=login]', 'dora');
    await page.fill('input[name=password]', 'x');
    await page.click('button[type=submit]');
    await page.waitForURL(`${app.baseURL}/page`);
    assert((await who(page)) === 'in: dora', `shows ${await who(page)}`);
    await context.clearCookies({ name: 'sid' });
    await page.goto(`${app.baseURL}/page`);
    assert((await who(page)) === 'in: dora', `shows ${await who(page)}`);
    assert(silentTrips.length === 2, `${silentTrips.length} silent trips`);
  });
  await context.close();

  const fresh = await newPage();
  await check("a page's fetch() is not sent to the IdP, and does not use up the attempt", async () => {
    await fresh.page.goto(`${app.baseURL}/page`); // the first visit's own attempt
    const before = silentTrips.length;
    await fresh.context.clearCookies({ name: 'portcullis.skipSilentLogin' });
    const fetched = await fresh.page.evaluate(async () => {
      const answer = await fetch('/page', { headers: { accept: 'text/html' } });
      return { redirected: answer.redirected, body: await answer.text() };
    });
    assert(!fetched.redirected && fetched.body.includes('out'), JSON.stringify(fetched));
    assert(silentTrips.length === before, 'the fetch went to the IdP');
    await fresh.page.goto(`${app.baseURL}/page`);
    assert(silentTrips.length === before + 1, 'the next navigation was not tried');
  });
  await fresh.context.close();
} finally {
  await browser.close();
  await app.close();
  await idp.close();
}
process.exitCode = failed ? 1 : 0;
