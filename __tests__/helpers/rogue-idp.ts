/**
 * A small IdP of our own on loopback for what oidc-provider will not do: forged or broken ID
 * tokens, 5xx answers, slow answers, rotated keys. It speaks real HTTP; nothing is mocked in-process.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';

export interface RogueKey {
  kid: string;
  privateJwk: jose.JWK;
  publicJwk: jose.JWK;
}

export function newRsaKey(kid = `rogue-${Math.random().toString(36).slice(2, 8)}`): RogueKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as jose.JWK), kid, alg: 'RS256' },
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as jose.JWK), kid, alg: 'RS256', use: 'sig' },
  };
}

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

export interface RogueIdp {
  issuer: string;
  /** Keys served at /jwks; the first signs by default. */
  keys: RogueKey[];
  metadata: Record<string, unknown>;
  /** Answer for the next token request(s); receives the form body. */
  token: (form: URLSearchParams) => Answer | Promise<Answer>;
  /** Answer for pushed authorization requests (RFC 9126, at /par); receives the form body. */
  par: (form: URLSearchParams) => Answer;
  userinfo: (authorization: string | undefined) => Answer;
  /** Every request's method and path, in order. */
  requests: Array<{ method: string; path: string; body: string; headers: IncomingMessage['headers'] }>;
  /** When set, every request answers with this status. */
  failWith: number | undefined;
  /** Milliseconds to wait before answering. */
  delay: number;
  /** false: serve metadata only at RFC 8414's /.well-known/oauth-authorization-server. */
  openidDiscovery: boolean;
  sign(
    payload: jose.JWTPayload,
    options?: { key?: RogueKey; header?: Record<string, unknown> },
  ): Promise<string>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, { status, body, headers = {} }: Answer): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

export async function startRogueIdp(): Promise<RogueIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rogue: RogueIdp = {
    issuer,
    keys: [newRsaKey()],
    metadata: {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      userinfo_endpoint: `${issuer}/userinfo`,
      end_session_endpoint: `${issuer}/logout`,
      response_types_supported: ['code'],
      id_token_signing_alg_values_supported: ['RS256'],
      authorization_response_iss_parameter_supported: true,
    },
    token: () => ({ status: 400, body: { error: 'invalid_grant' } }),
    par: () => ({
      status: 201,
      body: { request_uri: 'urn:ietf:params:oauth:request_uri:rogue', expires_in: 60 },
    }),
    userinfo: () => ({ status: 401, body: { error: 'invalid_token' } }),
    requests: [],
    failWith: undefined,
    delay: 0,
    openidDiscovery: true,
    async sign(payload, { key = rogue.keys[0]!, header = {} } = {}) {
      const alg = (header['alg'] as string | undefined) ?? 'RS256';
      return new jose.SignJWT(payload)
        .setProtectedHeader({ alg, kid: key.kid, ...header })
        .sign(await jose.importJWK(key.privateJwk, alg));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  server.on('request', async (req, res) => {
    const body = await readBody(req);
    const path = new URL(req.url ?? '/', issuer).pathname;
    rogue.requests.push({ method: req.method ?? 'GET', path, body, headers: req.headers });
    if (rogue.delay > 0) await new Promise((r) => setTimeout(r, rogue.delay));
    if (res.destroyed) return;
    if (rogue.failWith !== undefined)
      return send(res, { status: rogue.failWith, body: { error: 'server_error' } });
    switch (path) {
      case '/.well-known/openid-configuration':
        return rogue.openidDiscovery
          ? send(res, { status: 200, body: rogue.metadata })
          : send(res, { status: 404, body: { error: 'not_found' } });
      case '/.well-known/oauth-authorization-server':
        return send(res, { status: 200, body: rogue.metadata });
      case '/jwks':
        return send(res, { status: 200, body: { keys: rogue.keys.map((k) => k.publicJwk) } });
      case '/token':
        return send(res, await rogue.token(new URLSearchParams(body)));
      case '/par':
        return send(res, rogue.par(new URLSearchParams(body)));
      case '/userinfo':
        return send(res, rogue.userinfo(req.headers.authorization));
      default:
        return send(res, { status: 404, body: { error: 'not_found' } });
    }
  });
  return rogue;
}
