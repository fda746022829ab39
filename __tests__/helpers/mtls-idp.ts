/**
 * An OpenID Provider that does mutual TLS (RFC 8705): oidc-provider with `features.mTLS` (client
 * authentication by `tls_client_auth` and `self_signed_tls_client_auth`, certificate-bound access
 * tokens), served twice, as IdPs that offer mTLS often are:
 *
 * - `issuer`: plain http on 127.0.0.1 (loopback), for discovery, the keys and the browser's pages.
 *   It asks no client for a certificate.
 * - `mtlsOrigin`: https on localhost, asking every client for a certificate (any, self-signed too,
 *   as RFC 8705 needs); its endpoints are advertised as `mtls_endpoint_aliases`. A client that does
 *   not use the aliases reaches the token endpoint without a certificate, and is refused.
 *
 * Certificates come from tls-certs.ts: a CA, the server's certificate, a client certificate of that
 * CA (`CN=mtls-client`), another one of it (`CN=stranger`), and a self-signed one.
 */
import { createPublicKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as jose from 'jose';
import Provider, { type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { MemoryAdapter } from '../../demo-app/memory-adapter.js';
import { testProviderDefaults } from './provider-defaults.js';
import { createCA, LOOPBACK_HOSTS, selfSigned, type TestCA, type TestCertificate } from './tls-certs.js';

export const MTLS_AUDIENCE = 'https://api.mtls.example.test';
/** A resource whose access tokens are opaque (checked by introspection). */
export const OPAQUE_AUDIENCE = 'https://opaque.mtls.example.test';
/** The subject DN oidc-provider matches `tls_client_auth` clients against. */
const CLIENT_SUBJECT = 'CN=mtls-client,O=portcullis tests';

export interface MtlsPki {
  readonly ca: TestCA;
  /** For localhost and 127.0.0.1: the IdP's mTLS server, and the tests' APIs. */
  readonly server: TestCertificate;
  /** Issued by `ca` to the registered subject: `tls_client_auth`. */
  readonly client: TestCertificate;
  /** Issued by `ca` to someone else. */
  readonly stranger: TestCertificate;
  /** Registered (as `x5c`) with the `self_signed_tls_client_auth` clients. */
  readonly selfSigned: TestCertificate;
}

export interface MtlsCall {
  readonly server: 'plain' | 'mtls';
  readonly method: string;
  readonly path: string;
  /** The subject of the client certificate the TLS handshake carried. */
  readonly certificate: string | undefined;
}

export interface MtlsIdp {
  readonly issuer: string;
  readonly mtlsOrigin: string;
  readonly pki: MtlsPki;
  /** Every request to either server, in order. */
  readonly calls: MtlsCall[];
  /** Register `baseURL + /callback` with the web clients. */
  allowApp(baseURL: string): void;
  /** A JWT access token signed with the IdP's key, for claims it would not issue (`typ: at+jwt`). */
  sign(payload: jose.JWTPayload): Promise<string>;
  close(): Promise<void>;
}

export function makePki(): MtlsPki {
  const ca = createCA();
  return {
    ca,
    server: ca.issue({ cn: 'localhost', hosts: LOOPBACK_HOSTS }),
    client: ca.issue({ cn: 'mtls-client' }),
    stranger: ca.issue({ cn: 'stranger' }),
    selfSigned: selfSigned({ cn: 'self-signed-client' }),
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The certificate of the request's TLS connection, as PEM; none over plain http. */
function peerCertificate(socket: unknown): string | undefined {
  return (socket as Partial<TLSSocket>).getPeerX509Certificate?.()?.toString();
}

export async function startMtlsIdp(pki: MtlsPki = makePki()): Promise<MtlsIdp> {
  const calls: MtlsCall[] = [];
  const redirectUris = new Set<string>();

  // The self-signed clients' key set: served from a URI (inline `jwks` fails oidc-provider's realm check in jest).
  const selfSignedJwk = {
    ...(await jose.exportJWK(createPublicKey(pki.selfSigned.keyObject))),
    x5c: [pki.selfSigned.der.toString('base64')],
    use: 'sig',
  };
  const jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [selfSignedJwk] }));
  });
  const jwksUri = `http://127.0.0.1:${await listen(jwksServer)}/jwks`;

  const plain = createServer();
  const mtls = createHttpsServer({
    cert: pki.server.cert,
    key: pki.server.key,
    ca: pki.ca.cert,
    requestCert: true,
    rejectUnauthorized: false, // self-signed certificates too: oidc-provider decides
  });
  const issuer = `http://127.0.0.1:${await listen(plain)}`;
  const mtlsOrigin = `https://localhost:${await listen(mtls as unknown as Server)}`;

  const web = (client_id: string, extra: Partial<ClientMetadata>): ClientMetadata => ({
    client_id,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'], // checked by redirectUriAllowed below
    tls_client_certificate_bound_access_tokens: true,
    id_token_signed_response_alg: 'ES256',
    ...extra,
  });
  const service = (client_id: string, extra: Partial<ClientMetadata>): ClientMetadata => ({
    client_id,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    tls_client_certificate_bound_access_tokens: true,
    id_token_signed_response_alg: 'ES256',
    ...extra,
  });
  const tls = {
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: CLIENT_SUBJECT,
  } as const satisfies Partial<ClientMetadata>;
  const selfSignedAuth = {
    token_endpoint_auth_method: 'self_signed_tls_client_auth',
    jwks_uri: jwksUri,
  } as const satisfies Partial<ClientMetadata>;

  const signingKey = await generateSigningKey();
  const configuration: Configuration = {
    clients: [
      web('tls-web', tls),
      web('self-signed-web', selfSignedAuth),
      service('tls-service', tls),
      service('self-signed-service', selfSignedAuth),
      service('tls-service-unbound', { ...tls, tls_client_certificate_bound_access_tokens: false }),
    ],
    routes: {
      token: '/token',
      userinfo: '/me',
      pushed_authorization_request: '/request',
      introspection: '/token/introspection',
      revocation: '/token/revocation',
    },
    discovery: {
      mtls_endpoint_aliases: {
        token_endpoint: `${mtlsOrigin}/token`,
        userinfo_endpoint: `${mtlsOrigin}/me`,
        pushed_authorization_request_endpoint: `${mtlsOrigin}/request`,
        introspection_endpoint: `${mtlsOrigin}/token/introspection`,
        revocation_endpoint: `${mtlsOrigin}/token/revocation`,
      },
    },
    clientAuthMethods: ['tls_client_auth', 'self_signed_tls_client_auth'],
    adapter: MemoryAdapter,
    cookies: { keys: ['mtls-test-cookie-key-0123456789'] },
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    async findAccount(_ctx, id) {
      return { accountId: id, claims: async () => ({ sub: id, name: id, email: `${id}@example.test` }) };
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx) => peerCertificate(ctx.socket),
        certificateAuthorized: (ctx) => (ctx.socket as TLSSocket).authorized === true,
        certificateSubjectMatches: (ctx, property, expected) =>
          property === 'tls_client_auth_subject_dn' &&
          (ctx.socket as TLSSocket).getPeerX509Certificate?.()?.subject.split('\n').join(',') === expected,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx: KoaContextWithOIDC) =>
          ctx.oidc.client?.grantTypeAllowed('client_credentials') ? MTLS_AUDIENCE : undefined,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: KoaContextWithOIDC, resource: string) =>
          resource === OPAQUE_AUDIENCE
            ? {
                scope: 'orders:read',
                audience: OPAQUE_AUDIENCE,
                accessTokenTTL: 600,
                accessTokenFormat: 'opaque',
              }
            : {
                scope: 'orders:read',
                audience: MTLS_AUDIENCE,
                accessTokenTTL: 600,
                accessTokenFormat: 'jwt',
                jwt: { sign: { alg: 'ES256' } },
              },
      },
    },
    jwks: { keys: [signingKey] },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    async loadExistingGrant(ctx) {
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      if (accountId === undefined || clientId === undefined) return undefined;
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
      grant.addOIDCScope('openid profile email offline_access');
      for (const resource of [ctx.oidc.params?.resource ?? []].flat() as string[]) {
        grant.addResourceScope(resource, 'orders:read');
      }
      await grant.save();
      return grant;
    },
    ...testProviderDefaults, // the self-signed clients' key set is on loopback
  };
  const provider = new Provider(issuer, configuration);
  provider.Client.prototype.redirectUriAllowed = (value: string) => redirectUris.has(value);
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
  const callback = provider.callback();
  const serve =
    (server: MtlsCall['server']) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      const path = req.url ?? '';
      calls.push({ server, method: req.method ?? '', path, certificate: subjectOf(req) });
      callback(req, res);
    };
  plain.on('request', serve('plain'));
  mtls.on('request', serve('mtls'));

  return {
    issuer,
    mtlsOrigin,
    pki,
    calls,
    allowApp(baseURL) {
      redirectUris.add(`${baseURL.replace(/\/$/, '')}/callback`);
    },
    async sign(payload) {
      return new jose.SignJWT({ iss: issuer, aud: MTLS_AUDIENCE, ...payload })
        .setProtectedHeader({ alg: 'ES256', kid: signingKey.kid!, typ: 'at+jwt' })
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(await jose.importJWK(signingKey, 'ES256'));
    },
    async close() {
      await Promise.all([close(plain), close(mtls as unknown as Server), close(jwksServer)]);
    },
  };
}

function subjectOf(req: IncomingMessage): string | undefined {
  return (req.socket as Partial<TLSSocket>).getPeerX509Certificate?.()?.subject.split('\n').join(',');
}

async function generateSigningKey(): Promise<jose.JWK> {
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid: 'mtls-idp-1', alg: 'ES256', use: 'sig' };
}
