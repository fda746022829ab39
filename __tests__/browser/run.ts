/**
 * `npm run test:browser`: Debian's Chromium, driven by playwright-core, through the demo's real flow,
 * once with the default response_mode and once with form_post (session cookie SameSite=Lax both
 * times; the app is at localhost and the IdP at 127.0.0.1, so the IdP's form_post is cross-site):
 * two tabs open a protected page at the same moment with no session and both log in; log in on the
 * IdP's page as each demo user, see the profile, call the API (alice 201, bob 403
 * insufficient_scope), refresh, log out, and confirm the session is gone.
 * Screenshots go to .artifacts/screenshots (git-ignored).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { twoTabsLogInAtOnce } from './two-tabs.js';

const root = resolve(import.meta.dirname, '..', '..');
const shots = join(root, '.artifacts', 'screenshots');
mkdirSync(shots, { recursive: true });

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

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** Start the demo; `viaNpm` runs it exactly as the README says (`npm run demo`, which builds first). */
async function startDemo(
  responseMode: string,
  viaNpm = false,
): Promise<{ child: ChildProcess; baseURL: string }> {
  const port = await freePort();
  const idpPort = await freePort();
  const [command, args] = viaNpm
    ? ['npm', ['run', 'demo']]
    : [process.execPath, ['--import', 'tsx', 'demo-app/server.ts']];
  const child = spawn(command, args, {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      IDP_PORT: String(idpPort),
      RESPONSE_MODE: responseMode,
      REDIS_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so that stopping it stops npm and node alike
  });
  let output = '';
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('demo users:')) {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${output}`)));
  });
  return { child, baseURL: `http://localhost:${port}` };
}

async function loginAs(page: Page, baseURL: string, user: string, password: string): Promise<void> {
  await page.goto(`${baseURL}/`);
  await page.getByRole('link', { name: 'Log in' }).first().click();
  await page.waitForURL(/127\.0\.0\.1:\d+\/interaction\//);
  await page.fill('#login', user);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseURL}/profile`);
}

async function apiStatus(page: Page, button: string): Promise<{ status: string; body: string }> {
  await page.click(button);
  await page.waitForURL(/\/profile$/);
  return {
    status: (await page.textContent('#api-result .status')) ?? '',
    body: (await page.textContent('#api-result pre')) ?? '',
  };
}

async function flow(browser: Browser, baseURL: string, mode: string): Promise<void> {
  await check(`${mode}: two tabs open a protected page at the same moment and both log in`, () =>
    twoTabsLogInAtOnce(browser, baseURL, ['alice', 'wonderland'], (page, name) =>
      page.screenshot({ path: join(shots, `${mode}-${name}.png`), fullPage: true }),
    ),
  );
  await check(`${mode}: the worker calls the API with its client-credentials token (axios)`, async () => {
    const context = await browser.newContext();
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
    const context = await browser.newContext();
    const page = await context.newPage();
    await check(`${mode}: ${user} logs in on the IdP's page and sees the profile`, async () => {
      await loginAs(page, baseURL, user, password);
      const claims = (await page.textContent('#claims')) ?? '';
      assert(claims.includes(user), `claims show ${user}: ${claims}`);
      const scopes = (await page.textContent('#scopes')) ?? '';
      assert(scopes.includes('orders:read'), `scopes: ${scopes}`);
      assert(scopes.includes('orders:write') === canWrite, `orders:write for ${user}: ${scopes}`);
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
        const write = await apiStatus(page, '#create-order');
        if (canWrite) assert(write.status === '201', `POST /api/orders: ${write.status} ${write.body}`);
        else {
          assert(write.status === '403', `POST /api/orders: ${write.status} ${write.body}`);
          assert(write.body.includes('insufficient_scope'), `insufficient_scope: ${write.body}`);
        }
        await page.screenshot({ path: join(shots, `${mode}-${user}-api.png`), fullPage: true });
      },
    );
    await check(`${mode}: ${user} refreshes the tokens`, async () => {
      const before = await page.textContent('#expires-at');
      await page.waitForTimeout(1100);
      await page.click('#refresh');
      await page.waitForURL(/\/profile$/);
      const after = await page.textContent('#expires-at');
      assert(before !== after, `expiry changed after refresh: ${before} → ${after}`);
    });
    await check(`${mode}: ${user} logs out and the session is gone`, async () => {
      const sidBefore = (await context.cookies(baseURL)).find((c) => c.name === 'demo.sid')!.value;
      await page.getByRole('button', { name: 'Log out' }).click();
      // RP-initiated logout: the IdP asks for confirmation, then sends the user back.
      await page.waitForURL(/127\.0\.0\.1:\d+\//);
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
}

function stopDemo(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    child.once('exit', () => done());
    process.kill(-child.pid!, 'SIGINT');
  });
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
try {
  for (const mode of ['query', 'form_post']) {
    console.log(`demo with response_mode=${mode}`);
    const demo = await startDemo(mode);
    try {
      await flow(browser, demo.baseURL, mode);
    } finally {
      await stopDemo(demo.child);
    }
  }
} finally {
  await browser.close();
}

const failed = results.filter((r) => r.error !== undefined).length;
console.log(`\nbrowser: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
