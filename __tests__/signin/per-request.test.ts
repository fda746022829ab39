/**
 * What a signed-in request costs the session store: one read, no write, and a session that holds the
 * ID token once (its claims are read from it), so that express-session, which serialises and hashes
 * the whole session several times per request, has less to do. Figures: bench/signin/per-request.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Store } from 'express-session';
import session from 'express-session';
import { decodeJwt } from 'jose';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

interface StoredSession {
  portcullis?: { tokens: { id_token: string; claims?: Record<string, unknown> } };
}

/** A MemoryStore that counts the calls express-session and portcullis make to it. */
function countingStore(): { store: Store; calls: Record<string, number> } {
  const store = new session.MemoryStore();
  const calls: Record<string, number> = { get: 0, set: 0, touch: 0, destroy: 0 };
  const methods = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of Object.keys(calls)) {
    const original = methods[name]!.bind(store);
    methods[name] = (...args: unknown[]) => {
      calls[name]!++;
      return original(...args);
    };
  }
  return { store, calls };
}

const stored = (app: SigninApp, id: string) =>
  new Promise<StoredSession>((resolve) => app.store.get(id, (_err, s) => resolve(s as StoredSession)));

let idp: TestIdp;
let app: SigninApp;
let calls: Record<string, number>;
beforeAll(async () => {
  idp = await startIdp();
  const counting = countingStore();
  calls = counting.calls;
  app = await startSigninApp(idp, {
    store: counting.store,
    routes: (a) => a.get('/bare', (_req, res) => res.send('ok')),
  });
});
afterAll(async () => {
  await app.close();
  await idp.close();
});

describe('a signed-in request', () => {
  test('reads its session once and writes nothing when nothing changed', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    expect((await browser.get(`${app.baseURL}/me`)).status).toBe(200); // signed in, settled
    const before = { ...calls };
    for (let i = 0; i < 5; i++) {
      expect((await browser.get(`${app.baseURL}/bare`)).status).toBe(200);
      expect(JSON.parse((await browser.get(`${app.baseURL}/me`)).body).authenticated).toBe(true);
    }
    expect(calls.get! - before.get!).toBe(10);
    expect(calls.set! - before.set!).toBe(0);
    expect(calls.destroy! - before.destroy!).toBe(0);
  });

  test('the session stores the ID token, not its claims a second time; req.oidc reads them from it', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app, { login: 'carol' });
    const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
    const { portcullis } = await stored(app, me.sessionID);
    expect(portcullis?.tokens).not.toHaveProperty('claims');
    const payload = decodeJwt(portcullis!.tokens.id_token);
    expect(me.claims).toEqual(payload);
    expect(me.user.sub).toBe('carol');
    expect(me.user).not.toHaveProperty('nonce');
    expect(me.user).not.toHaveProperty('iss');
  });

  test('after a refresh the session still holds the ID token once, and the claims are the new ID token’s', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app, { login: 'dave' });
    const { sessionID } = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
    expect((await browser.request('POST', `${app.baseURL}/refresh`)).status).toBe(200);
    const me = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
    expect(me.sessionID).toBe(sessionID);
    const { portcullis } = await stored(app, sessionID);
    expect(portcullis?.tokens).not.toHaveProperty('claims');
    expect(me.claims).toEqual(decodeJwt(portcullis!.tokens.id_token));
    expect(me.user.sub).toBe('dave');
  });

  test('a session that holds claims (an earlier version, or an afterCallback that mapped them) is read as stored', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app, { login: 'erin' });
    const { sessionID } = JSON.parse((await browser.get(`${app.baseURL}/me`)).body);
    const data = (await stored(app, sessionID)) as StoredSession & Record<string, unknown>;
    // A claim named __proto__ (JSON.parse makes it an own property) stays a claim in req.oidc.user.
    const odd = JSON.parse('{"__proto__": {"admin": true}}') as Record<string, unknown>;
    const claims = { ...decodeJwt(data.portcullis!.tokens.id_token), role: 'editor', ...odd };
    data.portcullis!.tokens.claims = claims;
    await new Promise((resolve) => app.store.set(sessionID, data as never, resolve));
    const res = await browser.get(`${app.baseURL}/me`);
    const me = JSON.parse(res.body);
    expect(me.claims).toEqual(claims);
    expect(me.user.role).toBe('editor');
    expect(JSON.stringify(me.user)).toContain('"__proto__":{"admin":true}');
  });
});
