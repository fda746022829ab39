/**
 * No secret anywhere: after a login, a userinfo call, refreshes, a refused callback, a logout sent on
 * to the IdP and back-channel logouts (one accepted, one replayed), no span (name, attribute,
 * status, event), metric attribute, `onEvent` event or channel message holds the client secret, an
 * authorization code, a PKCE verifier or challenge, a state, a nonce, or any token, all as they
 * really went over the wire to and from oidc-provider.
 */
import { inspect } from 'node:util';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { signInAtIdp } from '../helpers/browser.js';
import { WEB_SECRET } from '../helpers/idp.js';
import { loginAs } from '../signin/harness.js';
import {
  loginSecrets,
  logoutToken,
  postLogoutToken,
  TestBrowser,
  type Watched,
  watchSignin,
} from './signin-fixture.js';

let w: Watched;
beforeAll(async () => {
  w = await watchSignin();
});
afterAll(() => w.close());

const codeOf = (url: string) => new URL(url).searchParams.getAll('code');

test('no span, metric, event or channel message holds a secret of the sign-in', async () => {
  const secrets = w.secrets;
  secrets.add(WEB_SECRET);

  // A login, its profile from userinfo, and two refreshes (each rotating the refresh token).
  const browser = new TestBrowser();
  const { start, callback } = await loginAs(browser, w.app);
  for (const s of [...loginSecrets(start.location), ...codeOf(callback.url)]) secrets.add(s);
  expect((await browser.get(`${w.app.baseURL}/userinfo`)).status).toBe(200);
  expect((await browser.post(`${w.app.baseURL}/refresh`, {})).status).toBe(200);
  expect((await browser.post(`${w.app.baseURL}/refresh`, {})).status).toBe(200);
  const { claims } = JSON.parse((await browser.get(`${w.app.baseURL}/me`)).body) as {
    claims: { sid: string };
  };

  // A callback delivered to another browser: refused, its state and code never used.
  const other = await new TestBrowser().get(`${w.app.baseURL}/login`);
  const attempt = await signInAtIdp(new TestBrowser(), other.location!, { stopAtCallback: true });
  for (const s of [...loginSecrets(other.location), ...codeOf(attempt.callback.url)]) secrets.add(s);
  expect((await new TestBrowser().get(attempt.callback.url)).status).toBe(400);

  // The IdP's back-channel logout, accepted once and refused when replayed.
  const token = await logoutToken(w, claims.sid);
  secrets.add(token);
  expect((await postLogoutToken(w, token)).status).toBe(200);
  expect((await postLogoutToken(w, token)).status).toBe(400);

  // A second login, logged out at the IdP too (the redirect carries the ID token as a hint).
  const again = new TestBrowser();
  const second = await loginAs(again, w.app);
  for (const s of [...loginSecrets(second.start.location), ...codeOf(second.callback.url)]) secrets.add(s);
  const logout = await again.get(`${w.app.baseURL}/logout`);
  expect(new URL(logout.location!).searchParams.get('id_token_hint')).toBeTruthy();
  for (const s of new URL(logout.location!).searchParams.getAll('state')) secrets.add(s);

  const types = new Set(w.events.map((e) => e.type));
  expect([...types].sort()).toEqual([
    'idp.discovery.fetched',
    'idp.jwks.fetched',
    'idp.token.completed',
    'signin.backchannel_logout.completed',
    'signin.backchannel_logout.rejected',
    'signin.login.completed',
    'signin.login.failed',
    'signin.login.started',
    'signin.logout.completed',
    'signin.refresh.completed',
  ]);
  expect(w.published).toEqual(w.events); // the channel carries exactly what onEvent got
  const spans = new Set(w.telemetry.spans().map((s) => s.name));
  for (const name of ['login', 'callback', 'refresh', 'logout', 'backchannel_logout']) {
    expect(spans).toContain(`portcullis.signin.${name}`);
  }

  // Codes, verifiers, states, nonces, challenges, the client secret (and its Basic credential) and
  // the access, refresh, ID and logout tokens: at least two of each login's.
  expect(secrets.size).toBeGreaterThan(25);
  const telemetry = await w.telemetry.strings();
  const seen = [
    ...telemetry,
    JSON.stringify(w.events),
    inspect(w.events, { depth: 10, showHidden: true }),
    inspect(w.published, { depth: 10, showHidden: true }),
  ];
  for (const text of seen) {
    for (const secret of secrets) {
      if (text.includes(secret))
        throw new Error(`a secret (${secret.slice(0, 12)}…) is in: ${text.slice(0, 300)}`);
    }
  }
  // The user is in the login event, never in a span or metric attribute.
  for (const text of telemetry) expect(text).not.toContain('alice');
});
