/**
 * Every attack on DPoP at the API (RFC 9449 §4.3, §7), with a real bound token from oidc-provider:
 * each is refused with the exact challenge of RFC 9449 §7.1 and a description naming the check
 * that caught it, so that removing the check fails its test (the request passes, or fails for
 * another reason).
 */
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import request from 'supertest';
import {
  DEFAULT_ALGS as ALGS,
  API_BASE as BASE,
  type DpopKey,
  dpopKey,
  plainToken,
  proof,
  withBoundToken,
} from '../helpers/dpop-client.js';
import type { TestIdp } from '../helpers/idp.js';
import { buildApp, HOSTS } from './app.js';

const HTU = `${BASE}/api/me`;
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

const fixture = withBoundToken();
let key: DpopKey;
let other: DpopKey;
let token: string;
let idp: TestIdp;
beforeAll(() => {
  ({ key, other, token, idp } = fixture);
});
const { options } = fixture;

function challenge(error: string, description: string): string {
  const escaped = description.replace(/"/g, '\\"');
  return `DPoP realm="api", error="${error}", error_description="${escaped}", algs="${ALGS}", Bearer realm="api"`;
}

describe.each(HOSTS)('attacks on DPoP at %s', (host) => {
  let app: ReturnType<typeof buildApp>;
  beforeAll(() => {
    app = buildApp(host, options());
  });

  const send = (dpop: string | string[] | undefined, path = '/api/me', method: 'get' | 'post' = 'get') => {
    const req = request(app)[method](path).set('authorization', `DPoP ${token}`);
    // An array sends the header twice.
    return dpop === undefined ? req : req.set('dpop', dpop as string);
  };

  async function expectRefused(
    res: request.Response,
    description: string,
    error = 'invalid_dpop_proof',
  ): Promise<void> {
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(challenge(error, description));
    expect(res.body).toEqual({ error, error_description: description });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.stringify(res.body) + res.headers['www-authenticate']).not.toContain(token);
  }

  test('a good proof passes (the baseline every attack departs from)', async () => {
    const res = await send(await proof(key, { htm: 'GET', htu: HTU, token }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'service', scopes: ['orders:read'] });
  });

  test('a replayed proof (same jti)', async () => {
    const once = await proof(key, { htm: 'GET', htu: HTU, token });
    expect((await send(once)).status).toBe(200);
    await expectRefused(await send(once), 'the DPoP proof was already used ("jti" replayed)');
    // The same jti in a new proof (new iat, new signature) is a replay too.
    const jti = 'fixed-jti';
    expect((await send(await proof(key, { htm: 'GET', htu: HTU, token, claims: { jti } }))).status).toBe(200);
    const again = await proof(key, { htm: 'GET', htu: HTU, token, claims: { jti, iat: now() - 1 } });
    await expectRefused(await send(again), 'the DPoP proof was already used ("jti" replayed)');
  });

  test('a proof for another method', async () => {
    await expectRefused(
      await send(await proof(key, { htm: 'POST', htu: HTU, token })),
      'the DPoP proof\'s "htm" does not match the request method',
    );
    await expectRefused(
      await send(await proof(key, { htm: 'get', htu: HTU, token })),
      'the DPoP proof\'s "htm" does not match the request method',
    );
  });

  test('a proof for another URL: path, origin, and a spoofed Host header', async () => {
    const wrong = 'the DPoP proof\'s "htu" does not match the request URL';
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: `${BASE}/api/orders`, token })),
      wrong,
    );
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: 'https://evil.example/api/me', token })),
      wrong,
    );
    // A forged Host does not move the expected htu: baseURL does.
    const spoofed = await send(
      await proof(key, { htm: 'GET', htu: 'https://evil.example/api/me', token }),
    ).set('host', 'evil.example');
    await expectRefused(spoofed, wrong);
    const honest = await send(await proof(key, { htm: 'GET', htu: HTU, token })).set('host', 'evil.example');
    expect(honest.status).toBe(200);
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: 42 as unknown as string, token })),
      wrong,
    );
  });

  test('htu ignores query and fragment, and normalises case and default port (RFC 9449 §4.3)', async () => {
    for (const htu of [`${BASE}/api/me?a=1#f`, 'HTTPS://API.example.test:443/api/me', `${BASE}/api/./me`]) {
      expect((await send(await proof(key, { htm: 'GET', htu, token }), '/api/me?page=2')).status).toBe(200);
    }
  });

  test('a proof too old, or issued in the future (outside 60 s + clockTolerance)', async () => {
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: HTU, token, claims: { iat: now() - 70 } })),
      'the DPoP proof is too old ("iat")',
    );
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: HTU, token, claims: { iat: now() + 70 } })),
      'the DPoP proof is issued in the future ("iat")',
    );
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: HTU, token, claims: { iat: undefined } })),
      'the DPoP proof has no valid "iat"',
    );
    for (const iat of [now() - 55, now() + 55]) {
      expect((await send(await proof(key, { htm: 'GET', htu: HTU, token, claims: { iat } }))).status).toBe(
        200,
      );
    }
  });

  test('a proof by another key than the token is bound to (cnf.jkt)', async () => {
    // Its own jwk: a valid proof, but not for this token.
    await expectRefused(
      await send(await proof(other, { htm: 'GET', htu: HTU, token })),
      "the DPoP proof's key does not match the token's binding (cnf.jkt)",
      'invalid_token',
    );
    // The bound key's jwk, signed by another key: the signature fails.
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: HTU, token }, other)),
      "the DPoP proof's signature does not verify",
    );
  });

  test('a missing or wrong ath', async () => {
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: HTU })),
      'the DPoP proof has no "ath" (hash of the access token)',
    );
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: HTU, token: await plainToken(idp) })),
      'the DPoP proof\'s "ath" does not match the access token',
    );
  });

  test('a wrong or missing typ', async () => {
    for (const typ of ['JWT', 'at+jwt', undefined]) {
      await expectRefused(
        await send(await proof(key, { htm: 'GET', htu: HTU, token, header: { typ } })),
        'the DPoP proof\'s "typ" is not dpop+jwt',
      );
    }
  });

  test('alg none, HS256, and an alg outside the allow-list', async () => {
    const claims = { jti: 'x', htm: 'GET', htu: HTU, iat: now(), ath: jose.base64url.encode('x') };
    const none = `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${b64(claims)}`;
    await expectRefused(await send(`${none}.`), 'the DPoP proof has no signature');
    await expectRefused(await send(`${none}.AAAA`), 'the DPoP proof\'s "alg" is not allowed');
    const hsHeader = b64({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.publicJwk });
    const hsInput = `${hsHeader}.${b64(claims)}`;
    const hs = `${hsInput}.${createHmac('sha256', 'secret').update(hsInput).digest('base64url')}`;
    await expectRefused(await send(hs), 'the DPoP proof\'s "alg" is not allowed');
    const strict = buildApp(host, options({ dpop: { algorithms: ['EdDSA'] } }));
    const res = await request(strict)
      .get('/api/me')
      .set('authorization', `DPoP ${token}`)
      .set('dpop', await proof(key, { htm: 'GET', htu: HTU, token }));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof\'s \\"alg\\" is not allowed", algs="EdDSA", Bearer realm="api"',
    );
  });

  test('a jwk that holds a private key, or none, or one that does not fit alg', async () => {
    const privateJwk = await jose.exportJWK(key.privateKey);
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: HTU, token, header: { jwk: privateJwk } })),
      'the DPoP proof\'s "jwk" contains a private key',
    );
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: HTU, token, header: { jwk: undefined } })),
      'the DPoP proof has no "jwk" header',
    );
    const rsa = await dpopKey('RS256');
    await expectRefused(
      await send(await proof(key, { htm: 'GET', htu: HTU, token, header: { jwk: rsa.publicJwk } })),
      'the DPoP proof\'s "jwk" does not fit its "alg"',
    );
  });

  test('two DPoP headers, or none with the DPoP scheme', async () => {
    const [a, b] = await Promise.all([
      proof(key, { htm: 'GET', htu: HTU, token }),
      proof(key, { htm: 'GET', htu: HTU, token }),
    ]);
    await expectRefused(await send([a, b]), 'more than one DPoP header');
    await expectRefused(await send(undefined), 'the DPoP scheme needs a DPoP proof (the DPoP header)');
  });

  test('the bound token sent as a Bearer token (a stolen token without its key)', async () => {
    const res = await request(app).get('/api/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", error_description="the token is DPoP-bound: send it with the DPoP scheme and a proof", DPoP realm="api", algs="${ALGS}"`,
    );
    // A proof alongside does not help: the scheme is what says how the token is presented.
    const withProof = await request(app)
      .get('/api/me')
      .set('authorization', `Bearer ${token}`)
      .set('dpop', await proof(key, { htm: 'GET', htu: HTU, token }));
    expect(withProof.status).toBe(401);
  });

  test('required: true refuses Bearer tokens with a DPoP challenge, and takes DPoP', async () => {
    const strict = buildApp(host, options({ dpop: { required: true } }));
    const plain = await plainToken(idp);
    const bearer = await request(strict).get('/api/me').set('authorization', `Bearer ${plain}`);
    expect(bearer.status).toBe(401);
    expect(bearer.headers['www-authenticate']).toBe(`DPoP realm="api", algs="${ALGS}"`);
    expect(bearer.body).toEqual({
      error_description: 'this API requires DPoP-bound tokens with the DPoP scheme',
    });
    const none = await request(strict).get('/api/me');
    expect(none.headers['www-authenticate']).toBe(`DPoP realm="api", algs="${ALGS}"`);
    const ok = await request(strict)
      .get('/api/me')
      .set('authorization', `DPoP ${token}`)
      .set('dpop', await proof(key, { htm: 'GET', htu: HTU, token }));
    expect(ok.status).toBe(200);
    const bad = await request(strict)
      .get('/api/me')
      .set('authorization', `DPoP ${token}`)
      .set('dpop', await proof(key, { htm: 'POST', htu: HTU, token }));
    expect(bad.headers['www-authenticate']).toBe(
      `DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof's \\"htm\\" does not match the request method", algs="${ALGS}"`,
    );
  });

  test('with DPoP on, every challenge offers both schemes (RFC 9449 §7.2)', async () => {
    const none = await request(app).get('/api/me');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe(`Bearer realm="api", DPoP realm="api", algs="${ALGS}"`);
    const scope = await request(app)
      .get('/api/write')
      .set('authorization', `DPoP ${token}`)
      .set('dpop', await proof(key, { htm: 'GET', htu: `${BASE}/api/write`, token }));
    expect(scope.status).toBe(403);
    expect(scope.headers['www-authenticate']).toBe(
      `DPoP realm="api", error="insufficient_scope", error_description="the token lacks a required scope", scope="orders:write orders:read", algs="${ALGS}", Bearer realm="api"`,
    );
  });
});
