/**
 * DPoP's pieces on their own: the `dpop` option (one TypeError per rule, at start-up), the
 * environment, key thumbprints, the proof creator, nonce memory, and an IdP that ignores DPoP.
 */
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as jose from 'jose';
import { serviceOptionsFromEnv, validateServiceOptions } from '../../lib/config/service.js';
import { serviceAgent } from '../../lib/index.js';
import { accessTokenHash, jwkThumbprint } from '../../lib/protocol/dpop/jwk.js';
import { dpopKey } from '../../lib/protocol/dpop/key-pair.js';
import { DpopNonces, isUseDpopNonceChallenge } from '../../lib/protocol/dpop/nonce-memory.js';
import { createDpopProof } from '../../lib/protocol/dpop/proof.js';
import { type RogueIdp, startRogueIdp } from '../helpers/rogue-idp.js';

const base = { tokenEndpoint: 'https://idp.example.test/token', clientID: 'svc', clientSecret: 'secret' };
const privateJwk = (type: 'ec' | 'ed25519' | 'rsa' = 'ec') => {
  const { privateKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'jwk' }) as jose.JWK;
};

describe('the "dpop" option', () => {
  test.each([
    ['yes', '"dpop" must be a boolean or an object { key?, alg? }'],
    [{ keyPair: {} }, 'serviceAgent() has no option "dpop.keyPair"; did you mean "dpop.key"?'],
    [{ alg: 'HS256' }, '"dpop.alg" must be one of ES256, ES384, ES512, EdDSA, Ed25519, PS256, RS256'],
    [{ key: 42 }, '"dpop.key" must be a CryptoKeyPair, a private JWK, a PKCS#8 PEM or a private KeyObject'],
    [
      { key: 'not a key' },
      '"dpop.key" must be a private JWK, a PKCS#8 PEM, a private KeyObject or a CryptoKeyPair',
    ],
    [
      { key: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } },
      '"dpop.key" must be a private JWK, a PKCS#8 PEM, a private KeyObject or a CryptoKeyPair',
    ],
    [
      { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey },
      '"dpop.key" must be a private key',
    ],
    [
      { key: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey },
      '"dpop.key" must be an EC (P-256, P-384, P-521), Ed25519 or RSA key',
    ],
    [{ key: privateJwk('ec'), alg: 'RS256' }, '"dpop.alg" "RS256" does not fit the key'],
  ])('%p → TypeError at start-up', (dpop, message) => {
    expect(() => serviceAgent({ ...base, dpop: dpop as never })).toThrow(new TypeError(message));
  });

  test('a WebCrypto key pair whose public key cannot be exported is refused', async () => {
    const generated = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ]);
    const publicJwk = await crypto.subtle.exportKey('jwk', generated.publicKey);
    const publicKey = await crypto.subtle.importKey(
      'jwk',
      publicJwk,
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const pair = { privateKey: generated.privateKey, publicKey };
    expect(() => serviceAgent({ ...base, dpop: { key: pair } })).toThrow(
      new TypeError('"dpop.key" public key must be extractable'),
    );
  });

  test.each([
    ['a JWK', () => privateJwk('ec'), 'ES256'],
    ['a JWK as JSON', () => JSON.stringify(privateJwk('ed25519')), 'EdDSA'],
    [
      'a PEM',
      () =>
        generateKeyPairSync('rsa', { modulusLength: 2048 })
          .privateKey.export({ format: 'pem', type: 'pkcs8' })
          .toString(),
      'PS256',
    ],
    ['a KeyObject', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'ES384'],
  ])('%s is accepted, the algorithm following the key', (_name, make, alg) => {
    const key = dpopKey(make());
    expect(key.alg).toBe(alg);
    expect(key.publicJwk).not.toHaveProperty('d');
  });

  test('the thumbprint is RFC 7638, as jose computes it, for EC, OKP and RSA keys', async () => {
    for (const type of ['ec', 'ed25519', 'rsa'] as const) {
      const key = dpopKey(privateJwk(type));
      expect(key.thumbprint).toBe(await jose.calculateJwkThumbprint(key.publicJwk));
      expect(jwkThumbprint(key.publicJwk)).toBe(key.thumbprint);
    }
  });

  test('SERVICE_DPOP turns it on; SERVICE_DPOP_KEY supplies the key, also to dpop: true; explicit options win', () => {
    const jwk = privateJwk('ec');
    const fromEnv = (env: Record<string, string>, options = {}) =>
      validateServiceOptions(serviceOptionsFromEnv({ ...base, ...options }, env)).dpop;
    expect(fromEnv({})).toBeUndefined();
    expect(fromEnv({ SERVICE_DPOP: 'true' })?.alg).toBe('ES256');
    expect(fromEnv({ SERVICE_DPOP_KEY: JSON.stringify(jwk) })?.thumbprint).toBe(dpopKey(jwk).thumbprint);
    expect(fromEnv({ SERVICE_DPOP: 'false', SERVICE_DPOP_KEY: JSON.stringify(jwk) })).toBeUndefined();
    expect(fromEnv({ SERVICE_DPOP: 'true' }, { dpop: false })).toBeUndefined();
    // Code turns DPoP on, the deployment supplies the fleet's key; an explicit key wins over it.
    expect(fromEnv({ SERVICE_DPOP_KEY: JSON.stringify(jwk) }, { dpop: true })?.thumbprint).toBe(
      dpopKey(jwk).thumbprint,
    );
    const own = privateJwk('ec');
    expect(fromEnv({ SERVICE_DPOP_KEY: JSON.stringify(jwk) }, { dpop: { key: own } })?.thumbprint).toBe(
      dpopKey(own).thumbprint,
    );
    expect(() => fromEnv({ SERVICE_DPOP: 'maybe' })).toThrow(
      'environment variable SERVICE_DPOP must be true or false',
    );
  });

  test('the key never shows in the agent, its config or an error', () => {
    const jwk = privateJwk('ec');
    const agent = serviceAgent({ ...base, dpop: { key: jwk } });
    expect(inspect(agent, { depth: 10, showHidden: true })).not.toContain(jwk.d);
    let err: Error | undefined;
    try {
      serviceAgent({ ...base, dpop: { key: { ...jwk, x: 'broken' } } });
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(TypeError);
    expect(err?.message).not.toContain(jwk.d);
  });
});

describe('createDpopProof', () => {
  test('typ, public jwk, htm, htu without query and fragment, iat, jti; ath and nonce when given', async () => {
    const key = dpopKey(undefined);
    const keyPair = await key.keyPair();
    const proof = await createDpopProof({
      keyPair,
      publicJwk: key.publicJwk,
      htm: 'post',
      htu: 'https://api.example.test/a/b?x=1#f',
      accessToken: 'tok',
      nonce: 'n-1',
    });
    const { payload, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', jwk: key.publicJwk });
    expect(payload).toMatchObject({
      htm: 'POST',
      htu: 'https://api.example.test/a/b',
      ath: accessTokenHash('tok'),
      nonce: 'n-1',
    });
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    const bare = jose.decodeJwt(
      await createDpopProof({
        privateKey: keyPair.privateKey,
        publicJwk: key.publicJwk,
        htm: 'GET',
        htu: 'https://a.test/',
      }),
    );
    expect(bare).not.toHaveProperty('ath');
    expect(bare).not.toHaveProperty('nonce');
    expect(bare.jti).not.toBe(payload.jti);
  });

  test('a supplied CryptoKeyPair signs as is', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    // Extractable public key: WebCrypto always makes the public half extractable.
    const key = dpopKey(pair);
    expect(key.alg).toBe('EdDSA');
    expect(await key.keyPair()).toBe(pair);
    // The per-call proofs sign with node:crypto through the same, still non-extractable, key.
    const proof = await createDpopProof({
      privateKey: await key.signingKey(),
      publicJwk: key.publicJwk,
      alg: key.alg,
      htm: 'GET',
      htu: 'https://a.test/',
    });
    await expect(jose.jwtVerify(proof, jose.EmbeddedJWK, { typ: 'dpop+jwt' })).resolves.toBeDefined();
  });

  test.each(['ES256', 'ES384', 'ES512', 'EdDSA', 'PS256', 'RS256'] as const)(
    'a %s proof signed with node:crypto verifies with jose',
    async (alg) => {
      const key = dpopKey(undefined, alg);
      const proof = await createDpopProof({
        privateKey: await key.signingKey(),
        publicJwk: key.publicJwk,
        alg: key.alg,
        htm: 'DELETE',
        htu: 'https://api.example.test/orders/7?x=1',
        accessToken: 'tok',
      });
      const { payload, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: [alg],
      });
      expect(protectedHeader.jwk).toEqual(key.publicJwk);
      expect(payload).toMatchObject({
        htm: 'DELETE',
        htu: 'https://api.example.test/orders/7',
        ath: accessTokenHash('tok'),
      });
    },
  );
});

describe('DpopNonces', () => {
  test('per origin, bounded, least recently used forgotten first, junk ignored', () => {
    const nonces = new DpopNonces(2);
    nonces.remember('https://a.test/x', new Headers({ 'dpop-nonce': 'na' }));
    nonces.remember('https://b.test/', { 'dpop-nonce': 'nb' });
    expect(nonces.get('https://a.test/other?q')).toBe('na'); // a is now the most recent
    nonces.remember('https://c.test/', new Headers({ 'DPoP-Nonce': 'nc' }));
    expect(nonces.get('https://b.test/')).toBeUndefined();
    expect(nonces.get('https://a.test/')).toBe('na');
    expect(nonces.remember('https://a.test/', new Headers({ 'dpop-nonce': 'with "quote"' }))).toBeUndefined();
    expect(nonces.get('https://a.test/')).toBe('na');
  });

  test.each([
    [401, 'DPoP error="use_dpop_nonce", error_description="x"', true],
    [401, 'Bearer realm="api", DPoP algs="ES256", error=use_dpop_nonce', true],
    [401, ['Bearer realm="api"', 'DPoP error="use_dpop_nonce"'], true],
    [400, 'DPoP error="use_dpop_nonce"', false],
    [401, 'DPoP error="invalid_token"', false],
    [401, 'Bearer error="use_dpop_nonce_please"', false],
    [401, undefined, false],
  ])('isUseDpopNonceChallenge(%p, %p) → %p', (status, header, expected) => {
    expect(isUseDpopNonceChallenge(status, header)).toBe(expected);
  });
});

describe('an IdP that ignores DPoP', () => {
  let rogue: RogueIdp;
  beforeAll(async () => {
    rogue = await startRogueIdp();
    rogue.token = () => ({
      status: 200,
      body: { access_token: 'plain-bearer-token', token_type: 'Bearer', expires_in: 300 },
    });
  });
  afterAll(() => rogue.close());

  test('a Bearer token where DPoP was asked for is refused: ERR_DPOP_NOT_BOUND, no token in it', async () => {
    const agent = serviceAgent({ ...base, tokenEndpoint: `${rogue.issuer}/token`, dpop: true, retries: 0 });
    const err = (await agent.getToken().catch((e: unknown) => e)) as { code: string; status: number };
    expect(err).toMatchObject({ code: 'ERR_DPOP_NOT_BOUND', status: 502 });
    expect(JSON.stringify(err)).not.toContain('plain-bearer-token');
    expect(rogue.requests.filter((r) => r.path === '/token')).toHaveLength(1);
    expect(rogue.requests.at(-1)?.headers.dpop).toEqual(expect.any(String));
    await agent.close();
  });
});
