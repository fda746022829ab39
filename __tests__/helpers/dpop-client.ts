/**
 * The client side of DPoP for the bearer() tests: a key pair, proofs built with jose (any claim or
 * header overridable, to forge bad ones), and DPoP-bound tokens from the real test IdP.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from '@jest/globals';
import * as jose from 'jose';
import type { BearerOptions } from '../../lib/index.js';
import { API_AUDIENCE, SERVICE_SECRET, startIdp, type TestIdp } from './idp.js';

export interface DpopKey {
  readonly alg: string;
  readonly privateKey: jose.CryptoKey;
  readonly publicJwk: jose.JWK;
  /** RFC 7638 thumbprint of the public key: the bound token's `cnf.jkt`. */
  readonly jkt: string;
}

export async function dpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  const publicJwk = await jose.exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await jose.calculateJwkThumbprint(publicJwk) };
}

export const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

export interface ProofOptions {
  htm: string;
  htu: string;
  /** The access token the proof goes with (its `ath`); omit for none. */
  token?: string;
  nonce?: string;
  /** Claims on top (`undefined` removes one). */
  claims?: Record<string, unknown>;
  /** Header members on top (`undefined` removes one). */
  header?: Record<string, unknown>;
}

/** A DPoP proof signed with `key` (or with `signWith`, to sign with another key than the jwk's). */
export async function proof(key: DpopKey, options: ProofOptions, signWith: DpopKey = key): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: randomUUID(),
    htm: options.htm,
    htu: options.htu,
    iat: Math.floor(Date.now() / 1000),
    ...(options.token === undefined ? {} : { ath: ath(options.token) }),
    ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    ...options.claims,
  };
  const header: Record<string, unknown> = {
    alg: key.alg,
    typ: 'dpop+jwt',
    jwk: key.publicJwk,
    ...options.header,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
  return new jose.CompactSign(Buffer.from(JSON.stringify(claims)))
    .setProtectedHeader(header as jose.CompactJWSHeaderParameters)
    .sign(signWith.privateKey);
}

/** A client-credentials access token from the test IdP, bound to `key` by a DPoP proof. */
export async function boundToken(idp: TestIdp, key: DpopKey, scope = 'orders:read'): Promise<string> {
  const htu = `${idp.issuer}/token`;
  const res = await fetch(htu, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`service:${SERVICE_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      dpop: await proof(key, { htm: 'POST', htu }),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = (await res.json()) as { access_token?: string; token_type?: string };
  if (body.access_token === undefined || body.token_type !== 'DPoP') {
    throw new Error(`no DPoP token: ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/** A plain (unbound) client-credentials token from the test IdP. */
export async function plainToken(idp: TestIdp, scope = 'orders:read'): Promise<string> {
  const res = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`service:${SERVICE_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (body.access_token === undefined) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** The API's public URL in the DPoP tests, and the proof algorithms bearer() offers by default. */
export const API_BASE = 'https://api.example.test';
export const DEFAULT_ALGS = 'ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512';

export interface BoundTokenFixture {
  readonly idp: TestIdp;
  /** The key the token is bound to, and another one. */
  readonly key: DpopKey;
  readonly other: DpopKey;
  readonly token: string;
  /** bearer() options for this IdP and {@link API_BASE}, with `extra` on top. */
  options(extra?: Partial<BearerOptions>): BearerOptions;
}

/** Start the test IdP and get a DPoP-bound token from it before the file's tests (stopped after). */
export function withBoundToken(): BoundTokenFixture {
  const state: { idp?: TestIdp; key?: DpopKey; other?: DpopKey; token?: string } = {};
  beforeAll(async () => {
    state.idp = await startIdp();
    [state.key, state.other] = await Promise.all([dpopKey(), dpopKey()]);
    state.token = await boundToken(state.idp, state.key);
  });
  afterAll(() => state.idp?.close());
  return {
    get idp() {
      return state.idp!;
    },
    get key() {
      return state.key!;
    },
    get other() {
      return state.other!;
    },
    get token() {
      return state.token!;
    },
    options: (extra = {}) => ({
      issuerBaseURL: state.idp!.issuer,
      audience: API_AUDIENCE,
      baseURL: API_BASE,
      ...extra,
    }),
  };
}
