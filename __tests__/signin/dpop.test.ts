/**
 * DPoP for signed-in users (RFC 9449), against oidc-provider with DPoP on: each login gets a key
 * pair kept server-side, the code is bound to it (`dpop_jkt`), and the tokens the IdP issues are
 * DPoP-bound, so that the access token alone (as a Bearer token) is refused by the IdP.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type session from 'express-session';
import * as jose from 'jose';
import type Provider from 'oidc-provider';
import { signInAtIdp } from '../helpers/browser.js';
import { startIdp, type TestIdp } from '../helpers/idp.js';
import { loginAs, type SigninApp, startSigninApp, TestBrowser } from './harness.js';

interface StoredSession {
  portcullis?: {
    tokens: { access_token?: string; token_type?: string; refresh_token?: string };
    dpopKey?: { jkt: string; privateJwk: { d?: string } };
  };
}

async function sessions(store: session.MemoryStore): Promise<Array<[string, StoredSession]>> {
  return new Promise((resolve, reject) =>
    store.all((err, all) =>
      err ? reject(err) : resolve(Object.entries((all ?? {}) as Record<string, StoredSession>)),
    ),
  );
}

async function signedIn(app: SigninApp): Promise<{ id: string; data: StoredSession }> {
  const found = (await sessions(app.store)).filter(([, s]) => s.portcullis !== undefined);
  expect(found).toHaveLength(1);
  return { id: found[0]![0], data: found[0]![1] };
}

/** Call the IdP's userinfo endpoint with the access token alone, as a thief holding it would. */
async function userinfoWithout(
  idp: TestIdp,
  accessToken: string,
  scheme: 'Bearer' | 'DPoP',
): Promise<number> {
  const res = await fetch(`${idp.issuer}/me`, { headers: { authorization: `${scheme} ${accessToken}` } });
  return res.status;
}

/** Counts the token endpoint's requests, and how many of them carried a DPoP proof. */
function countTokenRequests(counter: { requests: number; withProof: number }) {
  return (provider: Provider) => {
    provider.use(async (ctx, next) => {
      if (ctx.path === '/token') {
        counter.requests += 1;
        if (ctx.get('dpop') !== '') counter.withProof += 1;
      }
      await next();
    });
  };
}

describe('auth({ dpop: true })', () => {
  let idp: TestIdp;
  let app: SigninApp;
  const counter = { requests: 0, withProof: 0 };
  beforeAll(async () => {
    idp = await startIdp({ extend: countTokenRequests(counter) });
    app = await startSigninApp(idp, { options: { dpop: true } });
  });
  afterAll(async () => {
    await app.close();
    await idp.close();
  });

  test('the login binds the code to a per-login key and the IdP issues DPoP-bound tokens', async () => {
    const browser = new TestBrowser();
    const before = { ...counter };
    const { start, result } = await loginAs(browser, app, { returnTo: '/me' });
    expect(result.location).toBe(`${app.baseURL}/me`);
    const { data } = await signedIn(app);
    const login = data.portcullis!;
    expect(new URL(start.location!).searchParams.get('dpop_jkt')).toBe(login.dpopKey!.jkt);
    expect(login.tokens.token_type).toBe('DPoP');
    // The code exchange carried a proof, and needed no second try.
    expect(counter.requests - before.requests).toBe(1);
    expect(counter.withProof - before.withProof).toBe(1);
    // The private key stays server-side: nothing the browser saw contains it.
    const d = login.dpopKey!.privateJwk.d!;
    for (const hop of browser.history) {
      expect(hop.body).not.toContain(d);
      expect(hop.setCookies.join()).not.toContain(d);
    }
    await app.store.clear();
  });

  test('the access token alone is refused by the IdP; fetchUserInfo() sends a proof and works', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    const { data } = await signedIn(app);
    const accessToken = data.portcullis!.tokens.access_token!;
    expect(await userinfoWithout(idp, accessToken, 'Bearer')).toBe(401);
    expect(await userinfoWithout(idp, accessToken, 'DPoP')).toBe(400);
    const info = await browser.get(`${app.baseURL}/userinfo`);
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body).sub).toBe('alice');
    await app.store.clear();
  });

  test('refresh sends a proof with the same key; the new tokens are bound to it too', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    const first = await signedIn(app);
    const before = { ...counter };
    const res = await browser.request('POST', `${app.baseURL}/refresh`);
    expect(res.status).toBe(200);
    expect(counter.withProof - before.withProof).toBe(1);
    const after = await signedIn(app);
    const tokens = after.data.portcullis!.tokens;
    expect(tokens.access_token).not.toBe(first.data.portcullis!.tokens.access_token);
    expect(tokens.token_type).toBe('DPoP');
    expect(after.data.portcullis!.dpopKey!.jkt).toBe(first.data.portcullis!.dpopKey!.jkt);
    expect(await userinfoWithout(idp, tokens.access_token!, 'Bearer')).toBe(401);
    expect((await browser.get(`${app.baseURL}/userinfo`)).status).toBe(200);
    await app.store.clear();
  });

  test('a code redeemed with another key than the login’s dpop_jkt is refused: no session', async () => {
    const browser = new TestBrowser();
    const start = await browser.get(`${app.baseURL}/login`);
    // Swap the pending login's key for another login's, as if the code were redeemed elsewhere.
    const other = await startSigninApp(idp, { options: { dpop: true } });
    try {
      expect((await new TestBrowser().get(`${other.baseURL}/login`)).status).toBe(302);
      type Pending = { portcullisTx: { dpopKey: unknown } };
      const pendingOf = async (store: session.MemoryStore) =>
        (await sessions(store)).find(([id]) => id.startsWith('portcullis-tx:')) as unknown as [
          string,
          Pending,
        ];
      const [id, pending] = await pendingOf(app.store);
      const [, foreign] = await pendingOf(other.store);
      const swapped = {
        ...pending,
        portcullisTx: { ...pending.portcullisTx, dpopKey: foreign.portcullisTx.dpopKey },
      };
      await new Promise((r) => app.store.set(id, swapped as never, r));
    } finally {
      await other.close();
    }
    const { result } = await signInAtIdp(browser, start.location!);
    expect(result!.status).toBe(400);
    const refused = JSON.parse(result!.body);
    expect(refused.code).toBe('ERR_OAUTH_RESPONSE');
    expect(refused.message).toContain(
      `code exchange failed: the token endpoint ${idp.issuer}/token answered 400 "invalid_grant"`,
    );
    expect(refused.message).toContain('DPoP key differ: sign in again');
    expect((await sessions(app.store)).filter(([, s]) => s.portcullis !== undefined)).toHaveLength(0);
  });

  test('a session whose key is damaged is refused (401), never sent as a Bearer request', async () => {
    const browser = new TestBrowser();
    await loginAs(browser, app);
    const { id, data } = await signedIn(app);
    const damaged = {
      ...data,
      portcullis: { ...data.portcullis!, dpopKey: { jkt: 'x', privateJwk: {}, publicJwk: {} } },
    };
    await new Promise((r) => app.store.set(id, damaged as never, r));
    const info = await browser.get(`${app.baseURL}/userinfo`);
    expect(info.status).toBe(401);
    expect((await browser.request('POST', `${app.baseURL}/refresh`)).status).toBe(401);
    await app.store.clear();
  });
});

test('an IdP that demands a DPoP nonce: login, refresh and userinfo each retry once with it', async () => {
  const counter = { requests: 0, withProof: 0 };
  const idp = await startIdp({ dpopNonce: true, extend: countTokenRequests(counter) });
  const app = await startSigninApp(idp, { options: { dpop: true } });
  try {
    const browser = new TestBrowser();
    const { result } = await loginAs(browser, app, { returnTo: '/me' });
    expect(result.location).toBe(`${app.baseURL}/me`);
    expect(counter.requests).toBe(2); // use_dpop_nonce, then the same request with the nonce
    expect((await browser.get(`${app.baseURL}/userinfo`)).status).toBe(200);
    expect((await browser.request('POST', `${app.baseURL}/refresh`)).status).toBe(200);
    // The nonce from the last answer is remembered: the refresh needed no second try.
    expect(counter.requests).toBe(3);
  } finally {
    await app.close();
    await idp.close();
  }
});

test('with PAR, the push carries the proof and the login completes bound', async () => {
  const idp = await startIdp({ requirePar: true });
  const app = await startSigninApp(idp, { options: { dpop: true } });
  try {
    const browser = new TestBrowser();
    const { result } = await loginAs(browser, app, { returnTo: '/me' });
    expect(result.location).toBe(`${app.baseURL}/me`);
    expect((await signedIn(app)).data.portcullis!.tokens.token_type).toBe('DPoP');
  } finally {
    await app.close();
    await idp.close();
  }
});

test('an IdP that ignores DPoP and issues a Bearer token: the login is refused, not silently unbound', async () => {
  const idp = await startIdp({ dpop: false });
  const app = await startSigninApp(idp, { options: { dpop: true } });
  try {
    const { result } = await loginAs(new TestBrowser(), app);
    expect(result.status).toBe(502);
    expect(JSON.parse(result.body).code).toBe('ERR_DPOP_NOT_BOUND');
    expect((await sessions(app.store)).filter(([, s]) => s.portcullis !== undefined)).toHaveLength(0);
  } finally {
    await app.close();
    await idp.close();
  }
});

test('dpop must be a boolean (or DPOP=true): anything else is a TypeError at start-up', async () => {
  const { auth } = await import('../../lib/index.js');
  expect(() =>
    auth({
      issuerBaseURL: 'https://idp.example.com',
      baseURL: 'https://app.example.com',
      clientID: 'a',
      clientSecret: 'x'.repeat(32),
      dpop: 'yes' as never,
    }),
  ).toThrow(new TypeError('"dpop" must be a boolean'));
});

/**
 * A resource server of our own on loopback that checks DPoP proofs with jose and can demand nonces:
 * it records what each request carried.
 */
async function startResourceServer(nonces: 'never' | 'once' | 'always') {
  const seen: Array<{ authorization: string; proof?: jose.JWTPayload; jkt?: string }> = [];
  let issued = 0;
  const server = createServer(async (req, res) => {
    const authorization = req.headers.authorization ?? '';
    const proof = req.headers.dpop;
    if (typeof proof !== 'string') {
      seen.push({ authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    const { payload, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, { typ: 'dpop+jwt' });
    const jkt = await jose.calculateJwkThumbprint(protectedHeader.jwk!);
    seen.push({ authorization, proof: payload, jkt });
    const current = `n-${issued}`;
    if (nonces === 'always' || (nonces === 'once' && payload['nonce'] !== current)) {
      issued += 1;
      res
        .writeHead(401, {
          'www-authenticate':
            'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
          'dpop-nonce': `n-${issued}`,
        })
        .end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders?page=2`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('req.oidc.fetch()', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startIdp({ accessTokenTTL: 2 });
  });
  afterAll(async () => {
    await idp.close();
  });

  type ResourceServer = Awaited<ReturnType<typeof startResourceServer>>;

  /** A signed-in browser on an app whose POST /call calls the resource server with req.oidc.fetch(). */
  async function withCallingApp(
    nonces: 'never' | 'once' | 'always',
    dpop: boolean,
    run: (ctx: { rs: ResourceServer; app: SigninApp; call: () => Promise<number> }) => Promise<void>,
  ) {
    const rs = await startResourceServer(nonces);
    const app = await startSigninApp(idp, {
      options: { dpop },
      routes: (a) => {
        a.post('/call', async (req, res, next) => {
          try {
            const answer = await req.oidc.fetch(rs.url, { method: 'POST', body: '{"item":1}' });
            res.json({ status: answer.status });
          } catch (err) {
            next(err);
          }
        });
      },
    });
    try {
      const browser = new TestBrowser();
      await loginAs(browser, app);
      const call = async () => JSON.parse((await browser.request('POST', `${app.baseURL}/call`)).body).status;
      await run({ rs, app, call });
    } finally {
      await app.close();
      await rs.close();
    }
  }

  test('a Bearer token goes as Authorization: Bearer, without a proof', async () => {
    await withCallingApp('never', false, async ({ rs, call }) => {
      expect(await call()).toBe(200);
      expect(rs.seen).toHaveLength(1);
      expect(rs.seen[0]!.authorization).toMatch(/^Bearer \S+$/);
    });
  });

  test('a DPoP-bound token goes with a fresh proof for this method and URL, and one retry with the nonce', async () => {
    await withCallingApp('once', true, async ({ rs, app, call }) => {
      const { data } = await signedIn(app);
      const token = data.portcullis!.tokens.access_token!;
      expect(await call()).toBe(200);
      expect(rs.seen).toHaveLength(2); // use_dpop_nonce, then once more with it
      const [first, second] = rs.seen;
      for (const hop of [first!, second!]) {
        expect(hop.authorization).toBe(`DPoP ${token}`);
        expect(hop.jkt).toBe(data.portcullis!.dpopKey!.jkt);
        expect(hop.proof).toMatchObject({
          htm: 'POST',
          htu: rs.url.replace('?page=2', ''),
          ath: jose.base64url.encode(createHash('sha256').update(token).digest()),
        });
      }
      expect(first!.proof!['jti']).not.toBe(second!.proof!['jti']);
      expect(second!.proof!['nonce']).toBe('n-1');
      // The nonce is remembered: the next call needs no retry.
      await call();
      expect(rs.seen).toHaveLength(3);
    });
  });

  test('a server that demands a new nonce every time gets exactly two requests, and its 401 is returned', async () => {
    await withCallingApp('always', true, async ({ rs, call }) => {
      expect(await call()).toBe(401);
      expect(rs.seen).toHaveLength(2);
    });
  });

  test('an expired access token is refreshed first; the call carries the new one', async () => {
    await withCallingApp('never', false, async ({ rs, app, call }) => {
      const before = (await signedIn(app)).data.portcullis!.tokens.access_token!;
      await new Promise((r) => setTimeout(r, 2100));
      await call();
      const after = (await signedIn(app)).data.portcullis!.tokens.access_token!;
      expect(after).not.toBe(before);
      expect(rs.seen[0]!.authorization).toBe(`Bearer ${after}`);
    });
  });
});
