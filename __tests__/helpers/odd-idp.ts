/**
 * An IdP that answers whatever a test says, path by path: a 404 HTML page for discovery, a 403 from
 * a "firewall" in front of the token endpoint, a JWKS that is a login page. Paths without an answer
 * serve a sound discovery document pointing at this server's own /token, /jwks, /introspect and
 * /userinfo. Real HTTP on loopback; every request is recorded.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OddAnswer {
  status: number;
  /** A string is sent as it is, anything else as JSON. */
  body?: unknown;
  /** @default 'application/json' for objects, 'text/html' for strings */
  type?: string;
  headers?: Record<string, string>;
}

export interface OddIdp {
  readonly url: string;
  /** Answers by path; a function is called per request. */
  readonly answers: Map<string, OddAnswer | ((req: IncomingMessage, body: string) => OddAnswer)>;
  readonly requests: Array<{ method: string; path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startOddIdp(): Promise<OddIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const odd: OddIdp = {
    url,
    answers: new Map(),
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const metadata = {
    issuer: url,
    authorization_endpoint: `${url}/authorize`,
    token_endpoint: `${url}/token`,
    jwks_uri: `${url}/jwks`,
    userinfo_endpoint: `${url}/userinfo`,
    introspection_endpoint: `${url}/introspect`,
    pushed_authorization_request_endpoint: `${url}/par`,
    response_types_supported: ['code'],
  };
  server.on('request', async (req, res) => {
    const body = await readBody(req);
    const path = new URL(req.url ?? '/', url).pathname;
    odd.requests.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization });
    const found = odd.answers.get(path);
    const answer: OddAnswer =
      typeof found === 'function'
        ? found(req, body)
        : (found ??
          (path === '/.well-known/openid-configuration'
            ? { status: 200, body: metadata }
            : { status: 404, body: '<h1>Not Found</h1>' }));
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
    const type = answer.type ?? (typeof answer.body === 'string' ? 'text/html' : 'application/json');
    res.writeHead(answer.status, { 'content-type': type, ...answer.headers });
    res.end(text);
  });
  return odd;
}
