/**
 * A small issuer of our own, for what the real oidc-provider will not do on demand: serve garbage
 * or 500s from its JWKS, go down and up, rotate keys mid-test, count every JWKS fetch, and answer
 * introspection for opaque tokens. It also signs tokens with any algorithm and header we ask for.
 *
 * A test file that needs one for all its tests calls `useKeyServer()` at its top level.
 */
import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from '@jest/globals';
import type * as jose from 'jose';

export type JwksMode = 'ok' | 'error' | 'garbage' | 'down';

export interface TestKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicJwk: jose.JWK;
}

export interface KeyServer {
  issuer: string;
  jwksUri: string;
  /** Fetches of the JWKS so far. */
  jwksHits: number;
  /** Requests to any other path (`/attacker/...` and the like) so far. */
  otherHits: string[];
  introspectionHits: number;
  mode: JwksMode;
  keys: TestKey[];
  /** Opaque token → introspection response. */
  introspection: Map<string, Record<string, unknown>>;
  newKey(alg?: string): TestKey;
  /** Replace the served keys by one fresh key. */
  rotate(alg?: string): TestKey;
  sign(payload: Record<string, unknown>, header?: Record<string, unknown>, key?: TestKey): Promise<string>;
  /** A standard valid access token for `audience`, with `claims` on top. */
  token(claims?: Record<string, unknown>, header?: Record<string, unknown>, key?: TestKey): Promise<string>;
  close(): Promise<void>;
}

export const AUDIENCE = 'https://api.example.test';

function keyPair(alg: string): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg.startsWith('ES')) {
    const namedCurve = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg]!;
    return generateKeyPairSync('ec', { namedCurve });
  }
  if (alg === 'EdDSA') return generateKeyPairSync('ed25519');
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function signWith(key: TestKey, data: Buffer): Buffer {
  const digest = key.alg === 'EdDSA' ? null : `sha${key.alg.slice(2)}`;
  if (key.alg.startsWith('ES')) return sign(digest, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  if (key.alg.startsWith('PS')) {
    return sign(digest, data, {
      key: key.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  }
  return sign(digest, data, key.privateKey);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => resolve(body));
  });
}

/** A key server ready to listen: `issuer` and `jwksUri` are set once `listen()` resolves. */
function keyServer(): { ks: KeyServer; listen(): Promise<void> } {
  let counter = 0;
  const ks: KeyServer = {
    issuer: '',
    jwksUri: '',
    jwksHits: 0,
    otherHits: [],
    introspectionHits: 0,
    mode: 'ok',
    keys: [],
    introspection: new Map(),
    newKey(alg = 'RS256') {
      const { privateKey, publicKey } = keyPair(alg);
      const kid = `key-${++counter}`;
      const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as jose.JWK), kid, alg, use: 'sig' };
      return { kid, alg, privateKey, publicJwk };
    },
    rotate(alg) {
      const key = ks.newKey(alg);
      ks.keys = [key];
      return key;
    },
    async sign(payload, header = {}, key = ks.keys[0]!) {
      // Signed by hand rather than with jose, which (rightly) refuses to sign some of our attacks.
      const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
      const input = `${b64({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })}.${b64(payload)}`;
      return `${input}.${signWith(key, Buffer.from(input)).toString('base64url')}`;
    },
    async token(claims = {}, header = {}, key) {
      const now = Math.floor(Date.now() / 1000);
      return ks.sign(
        {
          iss: ks.issuer,
          aud: AUDIENCE,
          sub: 'user-1',
          client_id: 'client-1',
          jti: `jti-${++counter}`,
          iat: now,
          exp: now + 300,
          scope: 'orders:read',
          ...claims,
        },
        header,
        key,
      );
    },
    close: async () => undefined,
  };
  ks.keys = [ks.newKey('RS256')];

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer: ks.issuer,
        jwks_uri: ks.jwksUri,
        introspection_endpoint: `${ks.issuer}/introspect`,
        token_endpoint: `${ks.issuer}/token`,
      });
    }
    if (path === '/jwks') {
      ks.jwksHits++;
      if (ks.mode === 'down') return req.socket.destroy();
      if (ks.mode === 'error') return json(res, 500, { error: 'server_error' });
      if (ks.mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"keys": [ this is not json');
      }
      return json(res, 200, { keys: ks.keys.map((k) => k.publicJwk) });
    }
    if (path === '/introspect' && req.method === 'POST') {
      ks.introspectionHits++;
      if (ks.mode === 'down') return req.socket.destroy();
      const token = new URLSearchParams(await readBody(req)).get('token') ?? '';
      return json(res, 200, ks.introspection.get(token) ?? { active: false });
    }
    ks.otherHits.push(path ?? '');
    json(res, 404, { error: 'not_found' });
  });
  const listen = async (): Promise<void> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    ks.issuer = `http://127.0.0.1:${port}`;
    ks.jwksUri = `${ks.issuer}/jwks`;
  };
  ks.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { ks, listen };
}

export async function startKeyServer(): Promise<KeyServer> {
  const { ks, listen } = keyServer();
  await listen();
  return ks;
}

/**
 * The key server of a test file: listening before its first test, closed after its last, and before
 * each test serving again (`mode` back to `ok`) with its counters at zero; with `freshKey`, a new
 * signing key each test, so that no test sees a key (or a cached verdict) of another.
 */
export function useKeyServer(options: { freshKey?: boolean } = {}): KeyServer {
  const { ks, listen } = keyServer();
  beforeAll(listen);
  afterAll(() => ks.close());
  beforeEach(() => {
    ks.mode = 'ok';
    ks.jwksHits = 0;
    ks.introspectionHits = 0;
    if (options.freshKey === true) ks.rotate();
  });
  return ks;
}
