/**
 * `npm run test:browser`: Debian's Chromium, driven by playwright-core, through the demo's real flow,
 * once with the default response_mode and once with form_post (session cookie SameSite=Lax both
 * times; the app is at localhost and the IdP at 127.0.0.1, so the IdP's form_post is cross-site):
 * two tabs open a protected page at the same moment with no session and both log in; log in on the
 * IdP's page as each demo user (after a wrong password, which keeps the username), see the profile,
 * call the API (alice 201, bob 403 insufficient_scope, named on the page), refresh (and be told so),
 * find that GET /logout does not log out, log out, and confirm the session is gone. Then the demo's
 * second built-in IdP (Partner Co.), chosen on the home page: its user signs in there, and the same
 * orders API accepts the token. Unknown paths get the styled 404 pages, and no page ever asks a host
 * other than localhost and 127.0.0.1 for anything.
 * Then the screenshots at 1280 and 375 px (screenshots.ts): `SCREENSHOTS=1 npm run test:browser`
 * writes them into docs/screenshots/, else they go to .artifacts/screenshots (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { root, startDemo, stopDemo } from './demo-process.js';
import { takeScreenshots, WIDTHS } from './screenshots.js';
import { twoTabsLogInAtOnce } from './two-tabs.js';

const shots = join(root, '.artifacts', 'screenshots');
mkdirSync(shots, { recursive: true });
const docShots = process.env['SCREENSHOTS'] === '1' ? join(root, 'docs', 'screenshots') : shots;
mkdirSync(docShots, { recursive: true });

/** Every request any page made to a host other than the demo's two: the demo must work offline. */
const offsite: string[] = [];
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1']);

const results: Array<{ name: string; error?: unknown }> = [];

async function check(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    results.push({ name });
    console.log(`  ✓ ${name}`);
  } catch (error) {
    results.push({ name, error });
    console.log(
      `  ✗ ${name}\n    ${String(error instanceof Error ? error.message : error)
        .split('\n')
        .join('\n    ')}`,
    );
  }
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Log in on the IdP's page, first with a wrong password: the form comes back with the username kept. */
async function loginAs(page: Page, baseURL: string, user: string, password: string): Promise<void> {
  await page.goto(`${baseURL}/`);
  await page.getByRole('link', { name: 'Log in' }).first().click();
  await page.waitForURL(/127\.0\.0\.1:\d+\/interaction\//);
  await page.fill('#login', user);
  await page.fill('#password', `not-${password}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('#login-error');
  assert((await page.inputValue('#login')) === user, `the username is kept after a wrong password`);
  assert((await page.inputValue('#password')) === '', 'the wrong password is not sent back');
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseURL}/profile`);
}

async function apiStatus(
  page: Page,
  button: string,
): Promise<{ status: string; body: string; message: string }> {
  await page.click(button);
  await page.waitForURL(/\/profile$/);
  return {
    status: (await page.textContent('#api-result .status')) ?? '',
    body: (await page.textContent('#api-result pre')) ?? '',
    message: (await page.textContent('#api-message')) ?? '',
  };
}

type NewContext = (options?: BrowserContextOptions) => Promise<BrowserContext>;

async function flow(newContext: NewContext, baseURL: string, mode: string): Promise<void> {
  await check(`${mode}: two tabs open a protected page at the same moment and both log in`, () =>
    twoTabsLogInAtOnce(newContext, baseURL, ['alice', 'wonderland'], (page, name) =>
      page.screenshot({ path: join(shots, `${mode}-${name}.png`), fullPage: true }),
    ),
  );
  await check(`${mode}: the worker calls the API with its client-credentials token (axios)`, async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${baseURL}/`);
    await page.getByRole('button', { name: 'Run the worker' }).click();
    await page.waitForURL(`${baseURL}/worker/run`);
    assert((await page.textContent('#api-result .status')) === '200', 'worker GET /api/orders is 200');
    assert(((await page.textContent('#api-result pre')) ?? '').includes('orders'), 'the worker sees orders');
    await context.close();
  });
  for (const [user, password, canWrite] of [
    ['alice', 'wonderland', true],
    ['bob', 'builder', false],
  ] as const) {
    const context = await newContext();
    const page = await context.newPage();
    await check(`${mode}: ${user} logs in on the IdP's page and sees the profile`, async () => {
      await loginAs(page, baseURL, user, password);
      const claims = (await page.textContent('#claims')) ?? '';
      assert(claims.includes(user), `claims show ${user}: ${claims}`);
      const scopes = (await page.textContent('#scopes')) ?? '';
      assert(scopes.includes('orders:read'), `scopes: ${scopes}`);
      assert(scopes.includes('orders:write') === canWrite, `orders:write for ${user}: ${scopes}`);
      const provider = (await page.textContent('#provider')) ?? '';
      assert(provider === 'main', `signed in with the demo's own IdP (the default provider): ${provider}`);
      const tokenType = (await page.textContent('#token-type')) ?? '';
      assert(tokenType.startsWith('DPoP'), `the demo's tokens are DPoP-bound: ${tokenType}`);
      const html = await page.content();
      assert(!/eyJ[A-Za-z0-9_-]{10,}\./.test(html), 'no token in the page');
      const cookies = await context.cookies(baseURL);
      const sid = cookies.find((c) => c.name === 'demo.sid');
      assert(
        sid?.sameSite === 'Lax' && sid.httpOnly,
        `session cookie is HttpOnly SameSite=Lax: ${JSON.stringify(sid)}`,
      );
      assert(!cookies.some((c) => /^eyJ/.test(c.value)), 'no token in a cookie');
      await page.screenshot({ path: join(shots, `${mode}-${user}-profile.png`), fullPage: true });
    });
    await check(
      `${mode}: ${user} calls the API (read 200, write ${canWrite ? '201' : '403 insufficient_scope'})`,
      async () => {
        const read = await apiStatus(page, '#list-orders');
        assert(read.status === '200', `GET /api/orders: ${read.status} ${read.body}`);
        // The seed orders carry real dates (lately), shown as dates, not 1970 or a placeholder.
        const placed = await page.locator('#api-result table.orders time').allTextContents();
        const year = new Date().getUTCFullYear();
        assert(
          placed.length >= 2 && placed.every((d) => / UTC$/.test(d) && /20\d\d/.test(d)),
          `seed orders show dates: ${placed.join(' | ')}`,
        );
        assert(
          placed.some((d) => d.includes(String(year)) || d.includes(String(year - 1))),
          'recent dates',
        );
        const write = await apiStatus(page, '#create-order');
        if (canWrite) assert(write.status === '201', `POST /api/orders: ${write.status} ${write.body}`);
        else {
          assert(write.status === '403', `POST /api/orders: ${write.status} ${write.body}`);
          assert(write.body.includes('insufficient_scope'), `insufficient_scope: ${write.body}`);
          // The page says which scope was missing, in words, not only in the JSON.
          assert(
            /may not create orders: the API needs the scope orders:write/.test(write.message),
            `the 403 names the missing scope: ${write.message}`,
          );
        }
        await page.screenshot({ path: join(shots, `${mode}-${user}-api.png`), fullPage: true });
      },
    );
    await check(`${mode}: ${user} refreshes the tokens`, async () => {
      const before = await page.textContent('#expires-at');
      await page.waitForTimeout(1100);
      await page.click('#refresh');
      await page.waitForURL(/\/profile$/);
      const after = (await page.textContent('#expires-at')) ?? '';
      assert(before !== after, `expiry changed after refresh: ${before} → ${after}`);
      const notice = (await page.textContent('#notice')) ?? '';
      const newTime = after.split(' (')[0] ?? after;
      assert(
        notice.startsWith('Tokens refreshed: the access token now expires at') && notice.includes(newTime),
        `the page says the tokens were refreshed, and until when: ${notice} (expires ${after})`,
      );
      await page.reload();
      assert((await page.locator('#notice').count()) === 0, 'the notice is shown once');
    });
    await check(`${mode}: ${user}: GET /logout does not log out (it shows a form that POSTs)`, async () => {
      const answer = await page.goto(`${baseURL}/logout`);
      assert(answer?.status() === 405, `GET /logout: ${answer?.status()}`);
      assert((await page.locator('form[method="post"][action="/logout"]').count()) === 1, 'a POST form');
      await page.goto(`${baseURL}/profile`);
      assert(((await page.textContent('#claims')) ?? '').includes(user), 'still signed in after GET /logout');
    });
    await check(`${mode}: ${user} logs out and the session is gone`, async () => {
      const sidBefore = (await context.cookies(baseURL)).find((c) => c.name === 'demo.sid')!.value;
      if (user === 'alice') {
        await page.getByRole('button', { name: 'Log out' }).click();
      } else {
        // The form on GET /logout's page logs out as the nav's button does.
        await page.goto(`${baseURL}/logout`);
        await page.click('#confirm-logout');
      }
      // RP-initiated logout: the IdP asks for confirmation (on its own styled page), then sends the user back.
      await page.waitForURL(/127\.0\.0\.1:\d+\//);
      const confirm = (await page.textContent('h1')) ?? '';
      assert(confirm === 'Sign out of the demo IdP?', `the IdP's logout page: ${confirm}`);
      await page.getByRole('button', { name: /yes, sign me out/i }).click();
      await page.waitForURL(`${baseURL}/`);
      assert((await page.getByRole('link', { name: 'Log in' }).count()) > 0, 'home page shows Log in');
      // The old session cookie is worthless now: /profile sends a browser that replays it to log in.
      const replay = await fetch(`${baseURL}/profile`, {
        headers: { cookie: `demo.sid=${sidBefore}`, accept: 'text/html' },
        redirect: 'manual',
      });
      assert(
        replay.status === 302 && /\/auth\?/.test(replay.headers.get('location') ?? ''),
        `replayed session: ${replay.status}`,
      );
    });
    await context.close();
  }
  await partnerFlow(newContext, baseURL, mode);
  await check(`${mode}: unknown paths get the styled 404 pages, the app's and the IdP's`, async () => {
    const context = await newContext();
    const page = await context.newPage();
    for (const url of [
      `${baseURL}/no-such-page`,
      `${new URL(await idpOf(page, baseURL)).origin}/no-such-page`,
    ]) {
      const answer = await page.goto(url);
      assert(answer?.status() === 404, `${url}: ${answer?.status()}`);
      assert((await page.textContent('h1')) === 'Page not found', `${url}: ${await page.textContent('h1')}`);
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert(background !== 'rgba(0, 0, 0, 0)', `${url} is styled: ${background}`);
    }
    await context.close();
  });
}

/** The second built-in IdP, chosen on the home page: its user signs in, and the API accepts the token. */
async function partnerFlow(newContext: NewContext, baseURL: string, mode: string): Promise<void> {
  const context = await newContext();
  const page = await context.newPage();
  await check(`${mode}: carol signs in through Partner Co.'s IdP, chosen on the home page`, async () => {
    await page.goto(`${baseURL}/`);
    await page.click('#login-partner');
    await page.waitForURL(/127\.0\.0\.1:\d+\/interaction\//);
    const heading = (await page.textContent('h1')) ?? '';
    assert(heading === 'Sign in to Partner Co.', `the partner IdP's own page: ${heading}`);
    await page.fill('#login', 'carol');
    await page.fill('#password', 'partnership');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${baseURL}/profile`);
    const provider = (await page.textContent('#provider')) ?? '';
    assert(provider === 'partner', `signed in with partner: ${provider}`);
    const claims = (await page.textContent('#claims')) ?? '';
    assert(claims.includes('Carol Partner'), `claims show carol: ${claims}`);
    await page.screenshot({ path: join(shots, `${mode}-carol-partner-profile.png`), fullPage: true });
  });
  await check(`${mode}: the orders API accepts Partner Co.'s token (read 200, write 403)`, async () => {
    const read = await apiStatus(page, '#list-orders');
    assert(read.status === '200', `GET /api/orders with the partner's token: ${read.status} ${read.body}`);
    const write = await apiStatus(page, '#create-order');
    assert(write.status === '403', `POST /api/orders: ${write.status} ${write.body}`);
  });
  await check(`${mode}: carol logs out at Partner Co.'s IdP`, async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/127\.0\.0\.1:\d+\//);
    const confirm = (await page.textContent('h1')) ?? '';
    assert(confirm === 'Sign out of Partner Co.?', `the partner IdP's logout page: ${confirm}`);
    await page.getByRole('button', { name: /yes, sign me out/i }).click();
    await page.waitForURL(`${baseURL}/`);
    assert((await page.locator('#login-partner').count()) === 1, 'the home page offers both IdPs again');
  });
  await context.close();
}

/** The IdP's address, as the app's login sends the browser there. */
async function idpOf(page: Page, baseURL: string): Promise<string> {
  await page.goto(`${baseURL}/login`);
  await page.waitForURL(/127\.0\.0\.1:\d+\/interaction\//);
  return page.url();
}

// First, the demo exactly as the README says, and one login over plain HTTP (no browser).
await check('npm run demo starts the demo with its built-in IdP; one login over HTTP', async () => {
  const { TestBrowser } = await import('../helpers/browser.js');
  const demo = await startDemo('query', true);
  try {
    const http = new TestBrowser();
    let hop = await http.get(`${demo.baseURL}/login?returnTo=/profile`);
    hop = await http.follow(hop, (h) => h.status === 200 && h.body.includes('name="password"'));
    const action = /<form method="post" action="([^"]+)"/.exec(hop.body)?.[1];
    assert(action !== undefined, `the IdP's sign-in page: ${hop.status} ${hop.body.slice(0, 200)}`);
    hop = await http.post(new URL(action, hop.url).href, { login: 'alice', password: 'wonderland' });
    hop = await http.follow(hop, (h) => h.url === `${demo.baseURL}/profile`);
    assert(hop.status === 200 && hop.body.includes('Alice Liddell'), `profile: ${hop.status}`);
    const wrong = new TestBrowser();
    let w = await wrong.follow(await wrong.get(`${demo.baseURL}/login`), (h) => h.status === 200);
    const wAction = /<form method="post" action="([^"]+)"/.exec(w.body)?.[1] ?? '';
    w = await wrong.post(new URL(wAction, w.url).href, { login: 'alice', password: 'not-her-password' });
    assert(w.status === 200 && w.body.includes('wrong password'), 'a wrong password is refused');
    assert(
      /<input id="login"[^>]* value="alice"/.test(w.body),
      'the username is kept after a wrong password',
    );
    // A sign-in that is gone (finished, expired) links back to the app's start.
    const gone = await wrong.get(`${demo.issuer}/interaction/no-such-sign-in`);
    assert(
      gone.status === 400 &&
        gone.body.includes('This sign-in has expired') &&
        gone.body.includes(`href="${demo.baseURL}/"`),
      `the expired sign-in page links back to the app: ${gone.status} ${gone.body.slice(-300)}`,
    );
    // oidc-provider's start-up lines (Unsupported runtime on Node 20, NOTICEs) are filtered out.
    assert(!demo.output().includes('oidc-provider'), `the demo's output is quiet: ${demo.output()}`);
  } finally {
    await stopDemo(demo.child);
  }
});

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
/** A browser context whose every request is checked for its host (no fonts or scripts from elsewhere). */
const newContext: NewContext = async (options) => {
  const context = await browser.newContext(options);
  context.on('request', (request) => {
    if (!LOCAL_HOSTS.has(new URL(request.url()).hostname)) offsite.push(request.url());
  });
  return context;
};
try {
  for (const mode of ['query', 'form_post']) {
    console.log(`demo with response_mode=${mode}`);
    const demo = await startDemo(mode);
    try {
      await flow(newContext, demo.baseURL, mode);
      if (mode === 'query') {
        await check(
          `the pages at ${WIDTHS.join(' and ')} px fit the screen; screenshots in ${docShots}`,
          () => takeScreenshots(newContext, demo.baseURL, docShots),
        );
      }
    } finally {
      await stopDemo(demo.child);
    }
  }
} finally {
  await browser.close();
}
await check('no page asked a host other than localhost and 127.0.0.1 for anything', async () => {
  assert(offsite.length === 0, `requests to other hosts: ${[...new Set(offsite)].join(', ')}`);
});

const failed = results.filter((r) => r.error !== undefined).length;
console.log(`\nbrowser: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
