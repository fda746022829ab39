/**
 * An API protected by `bearer()` for the mTLS tests, and a client that calls it: over https with a
 * server that asks for client certificates (the app terminates TLS itself), or over plain http as
 * the backend of a proxy that forwards the certificate in a header.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect } from '@jest/globals';
import express from 'express';
import { type BearerOptions, bearer, type LogDetails, type Logger, serviceAgent } from '../../lib/index.js';
import { MTLS_AUDIENCE, type MtlsIdp, startMtlsIdp } from './mtls-idp.js';
import type { MtlsPki, TestCertificate } from './tls-certs.js';

export interface LogLine {
  readonly details: LogDetails;
  readonly message: string;
}

export interface MtlsApi {
  /** `https://localhost:<port>` or `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The `info` lines of bearer()'s logger: one per refusal. */
  readonly lines: LogLine[];
  close(): Promise<void>;
}

/** `GET /api/me` answers `req.auth`'s subject and `mtls`. */
function app(options: BearerOptions, lines: LogLine[]) {
  const logger: Logger = { warn() {}, info: (details, message) => lines.push({ details, message }) };
  const api = express();
  api.use('/api', bearer({ logger, ...options }));
  api.get('/api/me', (req, res) => {
    res.json({ sub: req.auth?.payload.sub, mtls: req.auth?.mtls ?? null });
  });
  return api;
}

async function listen(server: Server, origin: (port: number) => string, lines: LogLine[]): Promise<MtlsApi> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: origin((server.address() as AddressInfo).port),
    lines,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The app terminates TLS: an https server that asks for (and does not insist on) a client certificate. */
export function startHttpsApi(pki: MtlsPki, options: BearerOptions): Promise<MtlsApi> {
  const lines: LogLine[] = [];
  const server = createHttpsServer(
    { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
    app(options, lines),
  );
  return listen(server as unknown as Server, (port) => `https://localhost:${port}`, lines);
}

/** Behind a TLS-terminating proxy: plain http, the certificate in a header. */
export function startHttpApi(options: BearerOptions): Promise<MtlsApi> {
  const lines: LogLine[] = [];
  return listen(createHttpServer(app(options, lines)), (port) => `http://127.0.0.1:${port}`, lines);
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** One GET over https, with a client certificate or none, trusting the test CA. */
export function httpsGet(
  url: string,
  {
    ca,
    certificate,
    headers = {},
  }: { ca: string; certificate?: TestCertificate; headers?: Record<string, string> },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ca,
        headers,
        agent: false, // a connection per call: each call's certificate is its own
        ...(certificate === undefined ? {} : { cert: certificate.cert, key: certificate.key }),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text || '{}') });
          } catch {
            // Not JSON (Express's HTML error page): fail the test now rather than at its timeout.
            reject(new Error(`${res.statusCode} answer that is not JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * For a suite: the mTLS IdP, and an https API that takes its certificate-bound tokens
 * (`bearer({ mtls: true })`), started before its tests and closed after them.
 */
export function useMtlsIdpAndApi(): { readonly idp: MtlsIdp; readonly api: MtlsApi } {
  let idp: MtlsIdp | undefined;
  let api: MtlsApi | undefined;
  beforeAll(async () => {
    idp = await startMtlsIdp();
    api = await startHttpsApi(idp.pki, { issuerBaseURL: idp.issuer, audience: MTLS_AUDIENCE, mtls: true });
  });
  afterAll(async () => {
    await api?.close();
    await idp?.close();
  });
  return {
    get idp() {
      return idp!;
    },
    get api() {
      return api!;
    },
  };
}

/** An access token of `clientID` at the mTLS IdP, asked for with `idp.pki.client`'s certificate. */
export async function tokenOf(
  idp: MtlsIdp,
  clientID: string,
  extra: { resource?: string } = {},
): Promise<string> {
  const agent = serviceAgent({
    issuerBaseURL: idp.issuer,
    clientID,
    tlsClientCertificate: idp.pki.client.cert,
    tlsClientKey: idp.pki.client.key,
    tlsServerCA: idp.pki.ca.cert,
    ...extra,
  });
  try {
    return (await agent.getToken()).access_token;
  } finally {
    await agent.close();
  }
}

/** The calls `idp` saw since call number `from`, but discovery and keys: `server METHOD /path subject`. */
export function idpCalls(idp: MtlsIdp, from: number): string[] {
  return idp.calls
    .slice(from)
    .filter((call) => !call.path.startsWith('/.well-known') && !call.path.startsWith('/jwks'))
    .map(
      ({ server, method, path, certificate }) =>
        `${server} ${method} ${path.split('?')[0]} ${certificate ?? '-'}`,
    );
}

/** The API suites' IdP and tokens (live bindings: set by {@link useMtlsTokens} before the suite's tests). */
export let idp: MtlsIdp;
/** A token bound to `idp.pki.client`. */
export let bound: string;
/** A token that is not certificate-bound. */
export let unbound: string;

/** For an API suite: start the mTLS IdP and get `bound` and `unbound` before its tests; close it after. */
export function useMtlsTokens(): void {
  beforeAll(async () => {
    idp = await startMtlsIdp();
    [bound, unbound] = await Promise.all([tokenOf(idp, 'tls-service'), tokenOf(idp, 'tls-service-unbound')]);
  });
  afterAll(() => idp.close());
}

/** bearer()'s options for the mTLS IdP's API. */
export const options = (extra: Partial<BearerOptions> = {}): BearerOptions => ({
  issuerBaseURL: idp.issuer,
  audience: MTLS_AUDIENCE,
  ...extra,
});

/** A `401 invalid_token` with `description`, in the body and the RFC 6750 challenge. */
export function expectRefused(
  answer: Pick<Answer, 'status' | 'headers' | 'body'>,
  description: string,
): void {
  expect(answer.status).toBe(401);
  expect(answer.body).toEqual({ error: 'invalid_token', error_description: description });
  expect(answer.headers['www-authenticate']).toBe(
    `Bearer realm="api", error="invalid_token", error_description="${description.replace(/"/g, '\\"')}"`,
  );
}
