/**
 * A token endpoint of our own that misbehaves on demand, and a resource server that checks its
 * tokens. oidc-provider will not answer 500, reset a connection or issue a 1-second token on cue;
 * this does, and counts every request.
 *
 * Faults are queued (`server.faults.push('500', 'reset')`) and used one per token request; when the
 * queue is empty the server issues a token valid for `expiresIn` seconds.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CLIENT_ID = 'svc';
export const CLIENT_SECRET = 'svc-secret-0123456789-abcdefghijkl';

export type Fault =
  | '500' // 500 with an OAuth-style JSON body
  | '503-html' // 503 with an HTML body
  | 'reset' // the connection is destroyed without an answer
  | { status: 429; retryAfter?: string } // rate limited, with or without Retry-After
  | 'invalid_client' // 401 with a JSON error body and a Basic challenge
  | 'invalid_scope' // 400 with a JSON error body
  | { delayMs: number }; // answer normally, but this late

export interface TokenServer {
  readonly tokenEndpoint: string;
  /** Token requests received, faults included. */
  requests: number;
  /** Tokens issued. */
  issued: number;
  /** Lifetime of the next tokens, in seconds. */
  expiresIn: number;
  /** Added to every answer, in milliseconds. */
  delayMs: number;
  readonly faults: Fault[];
  /** The form bodies received, newest last. */
  readonly bodies: URLSearchParams[];
  /** 'valid', 'expired' or 'unknown', as the resource server sees a token now. */
  check(token: string): 'valid' | 'expired' | 'unknown';
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

function authenticated(req: IncomingMessage, body: URLSearchParams): boolean {
  const header = req.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':').map(decodeURIComponent);
    return id === CLIENT_ID && secret === CLIENT_SECRET;
  }
  return body.get('client_id') === CLIENT_ID && body.get('client_secret') === CLIENT_SECRET;
}

export async function startTokenServer(
  options: { expiresIn?: number; delayMs?: number } = {},
): Promise<TokenServer> {
  const tokens = new Map<string, number>();
  const server = createServer();
  const state: TokenServer = {
    tokenEndpoint: '',
    requests: 0,
    issued: 0,
    expiresIn: options.expiresIn ?? 3600,
    delayMs: options.delayMs ?? 0,
    faults: [],
    bodies: [],
    check(token) {
      const expiresAt = tokens.get(token);
      if (expiresAt === undefined) return 'unknown';
      return Date.now() < expiresAt ? 'valid' : 'expired';
    },
    close: () => close(server),
  };
  server.on('request', async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/token') return json(res, 404, { error: 'not_found' });
    state.requests++;
    const body = new URLSearchParams(await readBody(req));
    state.bodies.push(body);
    const fault = state.faults.shift();
    if (state.delayMs > 0) await sleep(state.delayMs);
    if (typeof fault === 'object' && 'delayMs' in fault) await sleep(fault.delayMs);
    if (fault === 'reset') return req.socket.destroy();
    if (typeof fault === 'object' && 'status' in fault) {
      const headers: Record<string, string> =
        fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
      return json(res, 429, { error: 'slow_down', error_description: 'injected' }, headers);
    }
    if (fault === '500') return json(res, 500, { error: 'server_error', error_description: 'injected' });
    if (fault === '503-html') {
      res.writeHead(503, { 'content-type': 'text/html' });
      return res.end('<h1>down</h1>');
    }
    if (fault === 'invalid_scope')
      return json(res, 400, { error: 'invalid_scope', error_description: 'no such scope' });
    if (fault === 'invalid_client' || !authenticated(req, body)) {
      return json(
        res,
        401,
        { error: 'invalid_client', error_description: 'client authentication failed' },
        { 'www-authenticate': 'Basic realm="token"' },
      );
    }
    if (body.get('grant_type') !== 'client_credentials')
      return json(res, 400, { error: 'unsupported_grant_type' });
    const token = `tok-${randomBytes(12).toString('hex')}`;
    tokens.set(token, Date.now() + state.expiresIn * 1000);
    state.issued++;
    const scope = body.get('scope');
    json(res, 200, {
      access_token: token,
      token_type: 'Bearer',
      expires_in: state.expiresIn,
      ...(scope === null ? {} : { scope }),
    });
  });
  const port = await listen(server);
  (state as { tokenEndpoint: string }).tokenEndpoint = `http://127.0.0.1:${port}/token`;
  return state;
}

export interface ResourceServer {
  readonly url: string;
  /** Requests received, and how their tokens looked. */
  requests: number;
  valid: number;
  expired: number;
  unknown: number;
  /** Answer the next N requests 401 invalid_token whatever their token. */
  rejectNext: number;
  /** Tokens refused as if revoked. */
  readonly revoked: Set<string>;
  /** Answer every request 401 invalid_token. */
  alwaysReject: boolean;
  /** Answer 401 without `error=` (a challenge a new token does not fix). */
  plainChallenge: boolean;
  /** The Authorization headers received, newest last. */
  readonly authorizations: string[];
  readonly bodies: string[];
  close(): Promise<void>;
}

/** A protected API that accepts the token server's tokens until they expire (RFC 6750 answers). */
export async function startResourceServer(tokens: TokenServer): Promise<ResourceServer> {
  const server = createServer();
  const state: ResourceServer = {
    url: '',
    requests: 0,
    valid: 0,
    expired: 0,
    unknown: 0,
    rejectNext: 0,
    alwaysReject: false,
    plainChallenge: false,
    authorizations: [],
    bodies: [],
    revoked: new Set(),
    close: () => close(server),
  };
  server.on('request', async (req, res) => {
    state.requests++;
    state.bodies.push(await readBody(req));
    const header = req.headers.authorization ?? '';
    state.authorizations.push(header);
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const verdict = state.revoked.has(token) ? 'unknown' : tokens.check(token);
    state[verdict]++;
    if (state.plainChallenge) {
      return json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="api"' });
    }
    if (state.alwaysReject || state.rejectNext > 0 || verdict !== 'valid') {
      if (state.rejectNext > 0) state.rejectNext--;
      return json(
        res,
        401,
        { error: 'invalid_token' },
        {
          'www-authenticate': 'Bearer realm="api", error="invalid_token", error_description="token refused"',
        },
      );
    }
    json(res, 200, { ok: true });
  });
  const port = await listen(server);
  (state as { url: string }).url = `http://127.0.0.1:${port}`;
  return state;
}
