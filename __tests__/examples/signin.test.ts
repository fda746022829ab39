/**
 * examples/signin against the test IdP, as a user would use it: the profile sends a stranger to log
 * in and back, the error handler shows a sign-in failure's code and message, and logout ends the
 * session here and at the IdP.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createApp } from '../../examples/signin/app.js';
import { type RunningApp, startApp } from '../helpers/app.js';
import { signInAtIdp, TestBrowser } from '../helpers/browser.js';
import { startIdp, type TestIdp, WEB_SECRET } from '../helpers/idp.js';

let idp: TestIdp;
let app: RunningApp;

beforeAll(async () => {
  idp = await startIdp();
  app = await startApp((baseURL) => {
    idp.allowApp(baseURL);
    return createApp({
      issuerBaseURL: idp.issuer,
      baseURL,
      clientID: 'web',
      clientSecret: WEB_SECRET,
      sessionSecret: 'example-test-session-secret',
    });
  });
});

afterAll(async () => {
  await app?.close();
  await idp?.close();
});

/** From /profile, through the IdP's sign-in page, back to the profile. */
async function signIn(browser: TestBrowser, login = 'alice') {
  const profile = await browser.get(`${app.baseURL}/profile`);
  expect(profile.status).toBe(302);
  expect(profile.location?.startsWith(`${idp.issuer}/auth?`)).toBe(true);
  const { result } = await signInAtIdp(browser, profile.location!, { login });
  expect(result?.location).toBe(`${app.baseURL}/profile`);
  return browser.get(result!.location!);
}

describe('examples/signin', () => {
  test('a stranger is sent to log in, and comes back to their profile', async () => {
    const browser = new TestBrowser();
    const home = await browser.get(`${app.baseURL}/`);
    expect(home.body).toContain('<a href="/login">Log in</a>');

    const profile = await signIn(browser);
    expect(profile.status).toBe(200);
    expect(profile.body).toContain('&#34;email&#34;: &#34;alice@example.test&#34;');
    expect((await browser.get(`${app.baseURL}/`)).body).toContain('Hello, Alice.');
  });

  test('an API client gets a 401 rather than a redirect', async () => {
    const res = await new TestBrowser().get(`${app.baseURL}/profile`, { accept: 'application/json' });
    expect(res.status).toBe(401);
  });

  test("the error handler shows a sign-in failure's code and message", async () => {
    // A login started in one browser and finished in another (a link pasted across browsers).
    const start = await new TestBrowser().get(`${app.baseURL}/login`);
    const { callback } = await signInAtIdp(new TestBrowser(), start.location!, { stopAtCallback: true });
    const res = await new TestBrowser().get(callback.url);
    expect(res.status).toBe(400);
    // The code, then the message (its wording is the library's: only its presence is checked here).
    expect(res.body).toMatch(/<p><code>ERR_STATE_MISMATCH<\/code><\/p><p>[^<]{20,}<\/p>/);
  });

  test('logout ends the session here and at the IdP, then comes home', async () => {
    const browser = new TestBrowser();
    await signIn(browser, 'bob');
    const logout = await browser.post(`${app.baseURL}/logout`, {});
    const end = new URL(logout.location!);
    expect(end.origin).toBe(idp.issuer);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${app.baseURL}/logout/callback`);

    // "Yes, sign me out" on the IdP's page.
    const confirm = await browser.get(end.href);
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(confirm.body)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1];
    const back = await browser.post(new URL(action!, idp.issuer).href, { xsrf: xsrf!, logout: 'yes' });
    const home = await browser.follow(back);
    expect(home.url).toBe(`${app.baseURL}/`);
    expect(home.body).toContain('You are not signed in.');
    expect((await browser.get(`${app.baseURL}/profile`)).status).toBe(302);
  });
});
