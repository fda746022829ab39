/**
 * `auth({ attemptSilentLogin: true })` against oidc-provider: a browser's first page view without a
 * login goes to the IdP once with `prompt=none`; with a session there it comes back signed in, without
 * one (`login_required`) it comes back signed out with no error, and is never sent again in that
 * browser session, nor after logout. API calls, XHR, fetch, frames and prefetches are never sent.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Express } from 'express';
import session from 'express-session';
import { attemptSilentLogin } from '../../lib/index.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import {
  defaultExpress,
  loginAs,
  pageBrowser,
  type SigninApp,
  startSigninApp,
  TestBrowser,
  silentTrips as tripsTo,
} from './harness.js';

let idp: TestIdp;
let app: SigninApp;

const page = (app: Express) => {
  app.get('/page', (req, res) => {
    res.type('html').send(req.oidc.isAuthenticated() ? `<p>in: ${req.oidc.user?.sub}</p>` : '<p>out</p>');
  });
  app.post('/page', (_req, res) => {
    res.type('html').send('<p>posted</p>');
  });
};

beforeAll(async () => {
  idp = await startIdp();
  app = await startSigninApp(idp, { options: { attemptSilentLogin: true }, routes: page });
});
afterAll(async () => {
  await app.close();
  await idp.close();
});

/** The browser's trips to the IdP with prompt=none. */
const silentTrips = (browser: TestBrowser) => tripsTo(browser, idp.issuer);

const skipCookie = (browser: TestBrowser) => browser.cookie('127.0.0.1', 'portcullis.skipSilentLogin');

describe('attemptSilentLogin at oidc-provider', () => {
  test('a browser without a session at the IdP comes back signed out, with no error, and is not sent again', async () => {
    const browser = pageBrowser();
    const first = await browser.get(`${app.baseURL}/page?tab=2`);
    expect(first.status).toBe(302);
    const authorize = new URL(first.location!);
    expect(authorize.origin).toBe(idp.issuer);
    expect(authorize.searchParams.get('prompt')).toBe('none');
    expect(first.setCookies).toContain(
      'portcullis.skipSilentLogin=default; Path=/; HttpOnly; SameSite=Lax; Secure',
    );

    const landed = await browser.follow(first);
    const callback = browser.history.find((hop) => hop.url.startsWith(`${app.baseURL}/callback`))!;
    expect(new URL(callback.url).searchParams.get('error')).toBe('login_required');
    expect(callback.status).toBe(302);
    expect(callback.location).toBe(`${app.baseURL}/page?tab=2`);
    expect([landed.url, landed.status, landed.body]).toEqual([
      `${app.baseURL}/page?tab=2`,
      200,
      '<p>out</p>',
    ]);
    expect(app.errors).toEqual([]);

    for (const path of ['/page?tab=2', '/page', '/me']) {
      expect((await browser.get(`${app.baseURL}${path}`)).status).toBe(200);
    }
    expect(silentTrips(browser)).toHaveLength(1);
  });

  test('a browser with a session at the IdP is signed in silently, back on the page it asked for', async () => {
    const browser = pageBrowser();
    await loginAs(browser, app, { login: 'bob' });
    expect(skipCookie(browser)).toBeUndefined(); // an explicit login tries nothing, and marks nothing
    browser.jar.get('127.0.0.1')!.delete('sid'); // the app's session ended; the IdP's did not

    const first = await browser.get(`${app.baseURL}/page`);
    expect(new URL(first.location!).searchParams.get('prompt')).toBe('none');
    const landed = await browser.follow(first);
    expect([landed.url, landed.status, landed.body]).toEqual([`${app.baseURL}/page`, 200, '<p>in: bob</p>']);
    expect(app.errors).toEqual([]);
    // The login cleared the mark: when this session ends too, a silent login is tried again.
    expect(skipCookie(browser)).toBeUndefined();
    browser.jar.get('127.0.0.1')!.delete('sid');
    const again = await browser.get(`${app.baseURL}/page`);
    expect(new URL(again.location!).searchParams.get('prompt')).toBe('none');
    expect((await browser.follow(again)).body).toBe('<p>in: bob</p>');
    expect(silentTrips(browser)).toHaveLength(2);
  });

  test('a user who logs out is not signed straight back in, though the IdP still has a session', async () => {
    const browser = pageBrowser();
    await loginAs(browser, app, { login: 'carol' });
    const out = await browser.get(`${app.baseURL}/logout`);
    expect(out.setCookies).toContain('portcullis.skipSilentLogin=*; Path=/; HttpOnly; SameSite=Lax; Secure');
    const next = await browser.get(`${app.baseURL}/page`);
    expect([next.status, next.body]).toEqual([200, '<p>out</p>']);
    expect(silentTrips(browser)).toHaveLength(0);
  });

  const html = 'text/html,application/xhtml+xml,*/*;q=0.8';
  test.each<[string, string, Record<string, string>]>([
    ['an API call (JSON only)', 'GET', { accept: 'application/json', 'sec-fetch-dest': 'document' }],
    ['a bare */* client', 'GET', { accept: '*/*', 'sec-fetch-dest': 'document' }],
    ['an XHR', 'GET', { accept: html, 'x-requested-with': 'XMLHttpRequest', 'sec-fetch-dest': 'document' }],
    ['a fetch() from a page', 'GET', { accept: html, 'sec-fetch-dest': 'empty' }],
    ["a server's fetch of the page (Sec-Fetch-Mode cors)", 'GET', { accept: html }],
    ['a frame', 'GET', { accept: html, 'sec-fetch-dest': 'iframe' }],
    ['a prefetch', 'GET', { accept: html, 'sec-fetch-dest': 'document', 'sec-purpose': 'prefetch' }],
    ['a prerender (Purpose)', 'GET', { accept: html, 'sec-fetch-dest': 'document', purpose: 'prefetch' }],
    ['a HEAD request', 'HEAD', { accept: html, 'sec-fetch-dest': 'document' }],
    ['a form POST', 'POST', { accept: html, 'sec-fetch-dest': 'document' }],
  ])('%s is answered by the app and does not use up the attempt', async (_name, method, headers) => {
    const browser = new TestBrowser();
    browser.headers = headers;
    const res = await browser.request(
      method,
      `${app.baseURL}/page`,
      method === 'POST' ? { form: { a: '1' } } : {},
    );
    expect(res.status).toBe(200);
    expect(res.setCookies).toEqual([]);
    browser.headers = { accept: html, 'sec-fetch-dest': 'document' };
    const navigation = await browser.get(`${app.baseURL}/page`);
    expect(new URL(navigation.location!).searchParams.get('prompt')).toBe('none');
  });

  test('a signed-in user is never sent', async () => {
    const browser = pageBrowser();
    await loginAs(browser, app);
    expect((await browser.get(`${app.baseURL}/page`)).body).toBe('<p>in: alice</p>');
    expect(silentTrips(browser)).toHaveLength(0);
  });
});

describe('a client that keeps no cookies (a crawler)', () => {
  test('ends at a 400 at the callback after one trip, not in a loop', async () => {
    const crawler = pageBrowser();
    let hop = await crawler.get(`${app.baseURL}/page`);
    for (let i = 0; i < 10 && hop.location !== undefined; i++) {
      crawler.jar.clear();
      hop = await crawler.get(hop.location);
    }
    expect(hop.status).toBe(400);
    expect(JSON.parse(hop.body).code).toBe('ERR_STATE_MISMATCH');
    expect(silentTrips(crawler)).toHaveLength(1);
    app.errors.length = 0;
  });
});

describe('attemptSilentLogin() on one route', () => {
  let routed: SigninApp;
  beforeAll(async () => {
    routed = await startSigninApp(idp, {
      routes: (app) => {
        page(app);
        app.get('/welcome', attemptSilentLogin(), (req, res) => {
          res.type('html').send(req.oidc.isAuthenticated() ? 'welcome back' : 'welcome');
        });
        app.get('/misused', attemptSilentLogin as never);
      },
    });
  });
  afterAll(() => routed.close());

  test('only that route tries, once, and a logout stops it too', async () => {
    const browser = pageBrowser();
    expect((await browser.get(`${routed.baseURL}/page`)).status).toBe(200);
    const first = await browser.get(`${routed.baseURL}/welcome`);
    expect(new URL(first.location!).searchParams.get('prompt')).toBe('none');
    expect((await browser.follow(first)).body).toBe('welcome');
    expect((await browser.get(`${routed.baseURL}/welcome`)).body).toBe('welcome');
    expect(silentTrips(browser)).toHaveLength(1);

    const fresh = pageBrowser();
    await loginAs(fresh, routed);
    await fresh.get(`${routed.baseURL}/logout`);
    expect((await fresh.get(`${routed.baseURL}/welcome`)).body).toBe('welcome');
    expect(silentTrips(fresh)).toHaveLength(0);
  });

  test('used without calling it, or without auth() before it, it says so', async () => {
    const misused = await pageBrowser().get(`${routed.baseURL}/misused`);
    expect(misused.status).toBe(500);
    expect(JSON.parse(misused.body).message).toBe(
      'attemptSilentLogin() must be called: app.get(path, attemptSilentLogin(), handler), not attemptSilentLogin',
    );

    const bare = defaultExpress();
    bare.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    bare.get('/', attemptSilentLogin(), (_req, res) => res.send('never'));
    const errors: string[] = [];
    bare.use(((err, _req, res, _next) => {
      errors.push(`${err.code}: ${err.message}`);
      res.status(err.status).end();
    }) as import('express').ErrorRequestHandler);
    const { startApp } = await import('../helpers/app.js');
    const running = await startApp(() => bare);
    try {
      expect((await pageBrowser().get(`${running.baseURL}/`)).status).toBe(500);
      expect(errors).toEqual(['ERR_SESSION_MISSING: auth() must be mounted before attemptSilentLogin()']);
    } finally {
      await running.close();
    }
  });
});
