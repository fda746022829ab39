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
 * Certificates come from tls-certs.ts's `makePki()`: a CA, the server's certificate, a client
 * certificate of that CA (`CN=mtls-client`), another one of it (`CN=stranger`), and a self-signed one.
 *
 * It signs ES256 by default; `{ fapi: true }` makes it a FAPI 2.0 Security Profile IdP as well
 * (oidc-provider's `features.fapi` at profile 2.0: PKCE required, PAR required, only the profile's
 * algorithms advertised), signing with `signingAlg` (PS256 unless given).
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as jose from 'jose';
import Provider, { type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { MemoryAdapter } from '../../demo-app/memory-adapter.js';
import { testProviderDefaults } from './provider-defaults.js';
import { type MtlsPki, makePki } from './tls-certs.js';

export const MTLS_AUDIENCE = 'https://api.mtls.example.test';
/** A resource whose access tokens are opaque (checked by introspection). */
export const OPAQUE_AUDIENCE = 'https://opaque.mtls.example.test';
/** The subject DN oidc-provider matches `tls_client_auth` clients against. */
const CLIENT_SUBJECT = 'CN=mtls-client,O=portcullis tests';

export interface MtlsIdpSettings {
  /** What ID tokens, access tokens and `sign()` are signed with: ES256 by default, PS256 with `fapi`. */
  signingAlg?: 'ES256' | 'PS256';
  /** A FAPI 2.0 IdP: `features.fapi` at profile 2.0, PAR required, the profile's algorithms only. */
  fapi?: boolean;
}

/** FAPI 2.0 §5.4.1 (1): the only algorithms a FAPI IdP advertises. */
const FAPI_ALGS = ['PS256', 'ES256', 'EdDSA'] as const;

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
  /** The `jwt-service` client's private_key_jwt key (P-256, PKCS#8 PEM). */
  readonly assertionKey: string;
  /** Every request to either server, in order. */
  readonly calls: MtlsCall[];
  /** Register `baseURL + /callback` with the web clients. */
  allowApp(baseURL: string): void;
  /** A JWT access token signed with the IdP's key, for claims it would not issue (`typ: at+jwt`). */
  sign(payload: jose.JWTPayload): Promise<string>;
  close(): Promise<void>;
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

export async function startMtlsIdp(
  pki: MtlsPki = makePki(),
  { fapi = false, signingAlg = fapi ? 'PS256' : 'ES256' }: MtlsIdpSettings = {},
): Promise<MtlsIdp> {
  const calls: MtlsCall[] = [];
  const redirectUris = new Set<string>();

  // The clients' key sets, served from URIs (inline `jwks` fails oidc-provider's realm check in jest):
  // the self-signed certificate's, and the private_key_jwt client's.
  const assertionKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keySets: Record<string, jose.JWK> = {
    '/self-signed': {
      ...(await jose.exportJWK(createPublicKey(pki.selfSigned.keyObject))),
      x5c: [pki.selfSigned.der.toString('base64')],
    },
    '/assertion': await jose.exportJWK(assertionKey.publicKey),
  };
  const jwksServer = createServer((req, res) => {
    const key = keySets[req.url ?? ''];
    res.writeHead(key === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: key === undefined ? [] : [{ ...key, use: 'sig' }] }));
  });
  const keysOrigin = `http://127.0.0.1:${await listen(jwksServer)}`;

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
    id_token_signed_response_alg: signingAlg,
    ...extra,
  });
  const service = (client_id: string, extra: Partial<ClientMetadata>): ClientMetadata => ({
    client_id,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    tls_client_certificate_bound_access_tokens: true,
    id_token_signed_response_alg: signingAlg,
    ...extra,
  });
  const tls = {
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: CLIENT_SUBJECT,
  } as const satisfies Partial<ClientMetadata>;
  const selfSignedAuth = {
    token_endpoint_auth_method: 'self_signed_tls_client_auth',
    jwks_uri: `${keysOrigin}/self-signed`,
  } as const satisfies Partial<ClientMetadata>;

  const signingKey = await generateSigningKey(signingAlg);
  const configuration: Configuration = {
    clients: [
      web('tls-web', tls),
      web('self-signed-web', selfSignedAuth),
      service('tls-service', tls),
      service('self-signed-service', selfSignedAuth),
      service('tls-service-unbound', { ...tls, tls_client_certificate_bound_access_tokens: false }),
      // private_key_jwt: the certificate only binds the tokens (RFC 8705 §3).
      service('jwt-service', {
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks_uri: `${keysOrigin}/assertion`,
      }),
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
    clientAuthMethods: ['tls_client_auth', 'self_signed_tls_client_auth', 'private_key_jwt'],
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
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: fapi },
      fapi: { enabled: fapi, profile: '2.0' },
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
                jwt: { sign: { alg: signingAlg } },
              },
      },
    },
    jwks: { keys: [signingKey] },
    ...(fapi
      ? {
          enabledJWA: {
            idTokenSigningAlgValues: FAPI_ALGS,
            clientAuthSigningAlgValues: FAPI_ALGS,
            dPoPSigningAlgValues: FAPI_ALGS,
          },
        }
      : {}),
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
    ...testProviderDefaults, // the clients' key sets are on loopback
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
    assertionKey: assertionKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    calls,
    allowApp(baseURL) {
      redirectUris.add(`${baseURL.replace(/\/$/, '')}/callback`);
    },
    async sign(payload) {
      return new jose.SignJWT({ iss: issuer, aud: MTLS_AUDIENCE, ...payload })
        .setProtectedHeader({ alg: signingAlg, kid: signingKey.kid!, typ: 'at+jwt' })
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(await jose.importJWK(signingKey, signingAlg));
    },
    async close() {
      await Promise.all([close(plain), close(mtls as unknown as Server), close(jwksServer)]);
    },
  };
}

function subjectOf(req: IncomingMessage): string | undefined {
  return (req.socket as Partial<TLSSocket>).getPeerX509Certificate?.()?.subject.split('\n').join(',');
}

async function generateSigningKey(alg: string): Promise<jose.JWK> {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid: 'mtls-idp-1', alg, use: 'sig' };
}
