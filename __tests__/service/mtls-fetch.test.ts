/**
 * The fetch that presents a TLS client certificate (lib/protocol/mtls/https-fetch.ts) keeps fetch's
 * contract where users of `agent.fetch()` and portcullis itself rely on it: bodies, redirects (and the
 * credentials a redirect to another origin must lose), aborts and timeouts, network failures.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { serviceAgent } from '../../lib/index.js';
import { validateClientCertificate } from '../../lib/protocol/mtls/client-certificate.js';
import { certificateAgent, httpsFetch } from '../../lib/protocol/mtls/https-fetch.js';
import { makePki } from '../helpers/tls-certs.js';

const pki = makePki();
const certificate = validateClientCertificate(
  { tlsClientCertificate: pki.client.cert, tlsClientKey: pki.client.key, tlsServerCA: pki.ca.cert },
  { p: '', orEnv: () => '', customFetch: false },
)!;
const agent = certificateAgent(certificate);
const certFetch = httpsFetch(agent);

/**
 * Echoes the request (method, path, headers, body, the client certificate's subject); `?to=` redirects,
 * `/loop` redirects to itself and `/hang` never answers.
 */
function echo(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'https://x');
    if (url.pathname === '/hang') return; // never answers
    if (url.pathname === '/loop') {
      res.writeHead(302, { location: '/loop' });
      res.end();
      return;
    }
    const to = url.searchParams.get('to');
    if (to !== null) {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-twice': ['a', 'b'] });
    res.end(
      JSON.stringify({
        method: req.method,
        path: req.url,
        authorization: req.headers.authorization ?? null,
        contentType: req.headers['content-type'] ?? null,
        body,
        certificate:
          (req.socket as Partial<TLSSocket>).getPeerX509Certificate?.()?.subject.split('\n')[0] ?? null,
      }),
    );
  });
}

let one: Server;
let two: Server;
let plain: ReturnType<typeof createHttpServer>;
const origin = (server: { address(): unknown }, host = 'localhost', scheme = 'https') =>
  `${scheme}://${host}:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  const tls = { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false };
  one = createServer(tls, echo);
  two = createServer(tls, echo);
  plain = createHttpServer(echo);
  await Promise.all(
    [one, two, plain].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))),
  );
});
afterAll(async () => {
  agent.destroy();
  for (const s of [one, two, plain]) s.closeAllConnections();
  await Promise.all([one, two, plain].map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('the certificate fetch', () => {
  test('a POST body of any kind fetch takes, with its content type, and the certificate presented', async () => {
    const answer = await certFetch(`${origin(one)}/echo`, {
      method: 'POST',
      body: new URLSearchParams({ a: '1', b: 'two' }),
    });
    expect(answer.status).toBe(200);
    expect(answer.url).toBe(`${origin(one)}/echo`);
    expect(answer.headers.get('x-twice')).toBe('a, b');
    expect(await answer.json()).toMatchObject({
      method: 'POST',
      contentType: 'application/x-www-form-urlencoded;charset=UTF-8',
      body: 'a=1&b=two',
      certificate: 'CN=mtls-client',
    });
  });

  test('redirects: followed as fetch does (303 becomes a GET, 307 sends the body again)', async () => {
    const target = encodeURIComponent(`${origin(one)}/landed`);
    const seeOther = await certFetch(`${origin(one)}/r?status=303&to=${target}`, {
      method: 'POST',
      body: 'x',
    });
    expect(await seeOther.json()).toMatchObject({ method: 'GET', path: '/landed', body: '' });
    const temporary = await certFetch(`${origin(one)}/r?status=307&to=${target}`, {
      method: 'POST',
      body: 'x',
    });
    expect(await temporary.json()).toMatchObject({ method: 'POST', path: '/landed', body: 'x' });
  });

  test('a redirect to another origin drops the Authorization header', async () => {
    const target = encodeURIComponent(`${origin(two)}/elsewhere`);
    const same = encodeURIComponent(`${origin(one)}/here`);
    const headers = { authorization: 'Bearer secret-token' };
    const away = await certFetch(`${origin(one)}/r?to=${target}`, { headers });
    expect(await away.json()).toMatchObject({ path: '/elsewhere', authorization: null });
    const home = await certFetch(`${origin(one)}/r?to=${same}`, { headers });
    expect(await home.json()).toMatchObject({ path: '/here', authorization: 'Bearer secret-token' });
  });

  test("redirect: 'manual' answers the redirect, 'error' rejects it, and 20 hops are the most", async () => {
    const to = encodeURIComponent(`${origin(one)}/landed`);
    const manual = await certFetch(`${origin(one)}/r?to=${to}`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    await expect(certFetch(`${origin(one)}/r?to=${to}`, { redirect: 'error' })).rejects.toThrow(
      'fetch failed',
    );
    await expect(certFetch(`${origin(one)}/loop`)).rejects.toMatchObject({
      message: 'fetch failed',
      cause: { message: 'redirect count exceeded' },
    });
  });

  test('an abort (a timeout) rejects with its reason; a refused connection is "fetch failed"', async () => {
    const started = Date.now();
    await expect(
      certFetch(`${origin(one)}/hang`, { signal: AbortSignal.timeout(100) }),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(certFetch('https://127.0.0.1:1/nothing-listens')).rejects.toMatchObject({
      name: 'TypeError',
      message: 'fetch failed',
      cause: { code: 'ECONNREFUSED' },
    });
  });

  test('plain http (loopback in development) goes to the platform fetch, without a certificate', async () => {
    const answer = await certFetch(`${origin(plain, '127.0.0.1', 'http')}/echo`);
    expect(await answer.json()).toMatchObject({ path: '/echo', certificate: null });
  });

  test('a token endpoint that never answers: the agent gives up after httpTimeout, as the IdP being down', async () => {
    const agentWithCert = serviceAgent({
      tokenEndpoint: `${origin(one)}/hang`,
      clientID: 'orders',
      tlsClientCertificate: pki.client.cert,
      tlsClientKey: pki.client.key,
      tlsServerCA: pki.ca.cert,
      httpTimeout: 150,
      retries: 0,
    });
    await expect(agentWithCert.getToken()).rejects.toMatchObject({
      code: 'ERR_IDP_UNAVAILABLE',
      status: 503,
    });
    await agentWithCert.close();
  });
});
