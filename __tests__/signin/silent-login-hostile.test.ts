/**
 * attemptSilentLogin against an IdP of our own (node:http) that answers `prompt=none` as a test says:
 * redirects that would loop, each "ask the user" error, other errors, a forged `iss`; and an IdP that
 * cannot be reached at all. One trip per browser, never a loop; only the four "ask the user" answers
 * of a silent login pass quietly, after `state` and `iss` were checked.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Express } from 'express';
import { attemptSilentLogin } from '../../lib/index.js';
import { type OddAnswer, type OddIdp, startOddIdp } from '../helpers/odd-idp.js';
import {
  pageBrowser,
  type SigninApp,
  startSigninApp,
  type TestBrowser,
  silentTrips as tripsTo,
} from './harness.js';

let odd: OddIdp;
let app: SigninApp;
/** How the IdP answers an authorization request, given its parameters. */
let authorize: (params: URLSearchParams) => OddAnswer;

const page = (app: Express) => {
  app.get('/page', (req, res) => {
    res.type('html').send(req.oidc.isAuthenticated() ? '<p>in</p>' : '<p>out</p>');
  });
};

const redirectTo = (location: string): OddAnswer => ({ status: 302, headers: { location } });

/** Back to the app's callback with these parameters and the request's own `state`. */
const answer = (params: URLSearchParams, extra: Record<string, string>): OddAnswer =>
  redirectTo(
    `${params.get('redirect_uri')}?${new URLSearchParams({ ...extra, state: params.get('state') ?? '' })}`,
  );

beforeAll(async () => {
  odd = await startOddIdp();
  odd.answers.set('/authorize', (req: IncomingMessage) =>
    authorize(new URL(req.url ?? '/', odd.url).searchParams),
  );
  app = await startSigninApp({ issuer: odd.url }, { options: { attemptSilentLogin: true }, routes: page });
});
afterAll(async () => {
  await app.close();
  await odd.close();
});

const silentTrips = (browser: TestBrowser) => tripsTo(browser, odd.url).length;

describe('an IdP that answers prompt=none with a redirect back to the app', () => {
  test.each([
    ['to the page itself', () => `${app.baseURL}/page`],
    ['to /login', () => `${app.baseURL}/login?returnTo=%2Fpage`],
  ])('%s: one trip, and the chain ends', async (_name, target) => {
    authorize = (params) =>
      params.get('prompt') === 'none'
        ? redirectTo(target())
        : { status: 200, body: '<h1>Sign in</h1>', type: 'text/html' };
    const browser = pageBrowser();
    const end = await browser.follow(await browser.get(`${app.baseURL}/page`), () => false, 20);
    expect(end.status).toBe(200);
    expect((await browser.get(`${app.baseURL}/page`)).body).toBe('<p>out</p>');
    expect(silentTrips(browser)).toBe(1);
    expect(browser.history.length).toBeLessThan(8);
  });
});

describe('what a silent login accepts quietly, and what it does not', () => {
  test.each(['login_required', 'consent_required', 'interaction_required', 'account_selection_required'])(
    '%s: back on the page, signed out, no error',
    async (error) => {
      authorize = (params) => answer(params, { error, error_description: 'the user must be asked' });
      app.errors.length = 0;
      const browser = pageBrowser();
      const landed = await browser.follow(await browser.get(`${app.baseURL}/page?from=${error}`));
      expect([landed.url, landed.status, landed.body]).toEqual([
        `${app.baseURL}/page?from=${error}`,
        200,
        '<p>out</p>',
      ]);
      expect(app.errors).toEqual([]);
    },
  );

  test.each([
    ['invalid_request', 400],
    ['access_denied', 403],
    ['server_error', 400],
  ])('%s is an error, as for any login', async (error, status) => {
    authorize = (params) => answer(params, { error });
    app.errors.length = 0;
    const browser = pageBrowser();
    const end = await browser.follow(await browser.get(`${app.baseURL}/page`));
    expect(end.status).toBe(status);
    expect(app.errors).toEqual([
      { code: 'ERR_AUTHORIZATION_RESPONSE', status, message: `the IdP answered "${error}"` },
    ]);
  });

  test('login_required with another issuer\'s "iss" is refused: iss is checked first', async () => {
    authorize = (params) => answer(params, { error: 'login_required', iss: 'https://evil.example' });
    app.errors.length = 0;
    const browser = pageBrowser();
    const result = await browser.follow(await browser.get(`${app.baseURL}/page`));
    expect(result.status).toBe(400);
    expect(app.errors.at(-1)).toMatchObject({ code: 'ERR_ISSUER_MISMATCH', status: 400 });
  });

  test('login_required answered to a login the user started is an error, as it always was', async () => {
    authorize = (params) => answer(params, { error: 'login_required' });
    app.errors.length = 0;
    const browser = pageBrowser();
    const end = await browser.follow(await browser.get(`${app.baseURL}/login?returnTo=%2Fpage`));
    expect(end.status).toBe(400);
    expect(app.errors).toEqual([
      { code: 'ERR_AUTHORIZATION_RESPONSE', status: 400, message: 'the IdP answered "login_required"' },
    ]);
  });
});

describe('an IdP that cannot be reached', () => {
  test('the page is served signed out, with a warning, and the browser is not sent again', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const warnings: string[] = [];
    const down = await startSigninApp(
      { issuer },
      {
        options: {
          attemptSilentLogin: true,
          logger: { warn: (_details, message) => warnings.push(message) },
        },
        routes: (app) => {
          page(app);
          app.get('/both', attemptSilentLogin(), (_req, res) => {
            res.send('both');
          });
        },
      },
    );
    try {
      const browser = pageBrowser();
      const first = await browser.get(`${down.baseURL}/page`);
      expect([first.status, first.body]).toEqual([200, '<p>out</p>']);
      expect(first.setCookies).toContain(
        'portcullis.skipSilentLogin=default; Path=/; HttpOnly; SameSite=Lax; Secure',
      );
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^auth\(\): a silent login \(attemptSilentLogin\) was not started, and the page was served signed out: discovery failed: .* could not be reached \(ECONNREFUSED\)/,
      );
      expect((await browser.get(`${down.baseURL}/page`)).status).toBe(200);
      expect(warnings).toHaveLength(1);
      // auth()'s attempt and the route's own in one request: one attempt, one mark.
      const both = await pageBrowser().get(`${down.baseURL}/both`);
      expect([both.status, both.body, both.setCookies.length]).toEqual([200, 'both', 1]);
      expect(warnings).toHaveLength(2);
      expect(down.errors).toEqual([]);
    } finally {
      await down.close();
    }
  });
});
