/**
 * An IdP of our own with many issuers on one port, for what oidc-provider will not do:
 *
 * - Entra ID's multi-tenant shape: `/organizations/v2.0` (and `/common/v2.0`) publish metadata whose
 *   `issuer` is `<origin>/{tenantid}/v2.0`; tokens carry `iss` `<origin>/<tid>/v2.0` and a `tid` claim,
 *   all signed by one key set. `/<tid>/v2.0` publishes that tenant's own, concrete metadata.
 * - A tenant per path for floods: `/t/<n>` is an issuer of its own (metadata, keys), so that 10,000
 *   tenants are 10,000 issuers without 10,000 servers.
 *
 * Every request is counted by path. Tokens (ID tokens included) are signed with ES256 (fast).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';

export interface TenantIdp {
  origin: string;
  /** `<origin>/organizations/v2.0`: the templated issuer's discovery URL. */
  organizations: string;
  /** The templated `issuer` its metadata names. */
  template: string;
  /** Requests so far, by path. */
  hits: Map<string, number>;
  /** Every request's path, in order. */
  paths: string[];
  /** The token endpoint's next answers, by issuer path (`/t/7`, `/organizations/v2.0`). */
  tokenAnswer: (
    issuerPath: string,
    form: URLSearchParams,
  ) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;
  /**
   * A path tenant's discovery answer instead of its metadata (`/t/7`), when this returns one: to make
   * an issuer fail, or to hold its answer until a test says so. Its metadata when `undefined`.
   */
  discoveryAnswer: (
    issuerPath: string,
  ) => { status: number; body: unknown } | undefined | Promise<{ status: number; body: unknown } | undefined>;
  /** The issuer of tenant `tid` (`<origin>/<tid>/v2.0`), and of path tenant `n` (`<origin>/t/<n>`). */
  tenantIssuer(tid: string): string;
  pathIssuer(n: number | string): string;
  sign(claims: jose.JWTPayload, header?: Record<string, unknown>): Promise<string>;
  /** Requests whose path starts with `prefix`. */
  count(prefix: string): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function metadata(issuer: string, base: string, origin: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    jwks_uri: `${origin}/keys`,
    userinfo_endpoint: `${base}/userinfo`,
    response_types_supported: ['code'],
    id_token_signing_alg_values_supported: ['ES256'],
    subject_types_supported: ['public'],
  };
}

export async function startTenantIdp(): Promise<TenantIdp> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'tenant-key-1';
  const publicJwk = { ...(publicKey.export({ format: 'jwk' }) as jose.JWK), kid, alg: 'ES256', use: 'sig' };
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp: TenantIdp = {
    origin,
    organizations: `${origin}/organizations/v2.0`,
    template: `${origin}/{tenantid}/v2.0`,
    hits: new Map(),
    paths: [],
    tokenAnswer: () => ({ status: 400, body: { error: 'invalid_grant' } }),
    discoveryAnswer: () => undefined,
    tenantIssuer: (tid) => `${origin}/${tid}/v2.0`,
    pathIssuer: (n) => `${origin}/t/${n}`,
    async sign(claims, header = {}) {
      return new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid, ...header })
        .sign(privateKey as KeyObject);
    },
    count: (prefix) => idp.paths.filter((p) => p.startsWith(prefix)).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  server.on('request', async (req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    idp.paths.push(path);
    idp.hits.set(path, (idp.hits.get(path) ?? 0) + 1);
    const body = await readBody(req);
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (path === '/keys') return send(200, { keys: [publicJwk] });
    const wellKnown = /^(\/.+)\/\.well-known\/openid-configuration$/.exec(path);
    if (wellKnown !== null) {
      const base = wellKnown[1]!;
      if (base === '/organizations/v2.0' || base === '/common/v2.0') {
        return send(200, metadata(idp.template, `${origin}${base}`, origin));
      }
      // A template that stands for no URL of this shape (v3.0 for a v2.0 document).
      if (base === '/misfit/v2.0')
        return send(200, metadata(`${origin}/{tenantid}/v3.0`, `${origin}${base}`, origin));
      if (/^\/t\/\d+$/.test(base)) {
        const answer = await idp.discoveryAnswer(base);
        if (answer !== undefined) return send(answer.status, answer.body);
      }
      if (/^\/[A-Za-z0-9-]+\/v2\.0$/.test(base) || /^\/t\/\d+$/.test(base)) {
        return send(200, metadata(`${origin}${base}`, `${origin}${base}`, origin));
      }
      return send(404, { error: 'not_found' });
    }
    const token = /^(\/.+)\/token$/.exec(path);
    if (token !== null && req.method === 'POST') {
      const answer = await idp.tokenAnswer(token[1]!, new URLSearchParams(body));
      return send(answer.status, answer.body);
    }
    send(404, { error: 'not_found' });
  });
  return idp;
}
