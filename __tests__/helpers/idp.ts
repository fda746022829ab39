/**
 * A real OpenID Provider for tests: oidc-provider started in-process on 127.0.0.1 on a free port.
 * No mocks: the code under test does discovery, token requests and JWKS fetches over loopback HTTP.
 *
 * Clients: `web` (client_secret_basic), `web-no-refresh` (no refresh tokens), `web-post` (client_secret_post,
 * with the client key for request objects), `web-jwt` (private_key_jwt),
 * `service` (client_credentials, basic) and `service-jwt` (client_credentials, private_key_jwt).
 * Users: any login works (devInteractions); `alice` may get orders:read and orders:write,
 * everyone else orders:read only. Consent is granted automatically.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import Provider, {
  type ClientMetadata,
  type Configuration,
  interactionPolicy,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { MemoryAdapter } from '../../demo-app/memory-adapter.js';
import { testProviderDefaults } from './provider-defaults.js';

export const API_AUDIENCE = 'https://api.example.test';
export const WEB_SECRET = 'web-secret-0123456789-abcdefghijkl';
export const SERVICE_SECRET = 'service-secret-0123456789-abcdefgh';

const DPOP_NONCE_SECRET = Buffer.alloc(32, 7);

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export interface IdpSettings {
  /** Lifetime of access tokens in seconds (JWT and opaque). */
  accessTokenTTL: number;
  idTokenTTL: number;
  /** Scopes each user may receive for the API. */
  userScopes: (accountId: string) => string[];
  /** Advertise and enforce require_pushed_authorization_requests (RFC 9126). Read at start-up. */
  requirePar: boolean;
  /**
   * Request objects (JAR, RFC 9101): accepted (`true`), or required of every client (`'required'`:
   * `require_signed_request_object` in the metadata). Read at start-up.
   */
  requestObjects?: boolean | 'required';
  /** JWT-secured authorization responses (JARM): `response_mode` jwt, query.jwt, form_post.jwt. Read at start-up. */
  jwtResponseModes?: boolean;
  /** The `web` client's backchannel_logout_uri (with sid required). Read at start-up. */
  backchannelLogoutUri?: string;
  /**
   * Authentication context classes the IdP offers (advertised as acr_values_supported). When set, a
   * login's `acr` is `loginAcr()` at the moment the user signs in, and an authorization request whose
   * `acr_values` the session does not meet prompts a new login (step-up), as IdPs with MFA do.
   * Read at start-up.
   */
  acrValues?: string[];
  /** More claims for JWT access tokens (merged over acr / auth_time), e.g. a grant's `act`. Read per token. */
  extraTokenClaims?: (ctx: KoaContextWithOIDC, token: object) => Record<string, unknown> | undefined;
  /** The `acr` of the next sign-in at the IdP's login form. Read per login. */
  loginAcr: () => string;
  /** Support DPoP at all (false: an IdP that ignores DPoP proofs and issues Bearer tokens). Read at start-up. */
  dpop: boolean;
  /**
   * OpenID Connect's rule that scope claims (name, email) go to userinfo only, not into an ID token
   * issued with an access token, as Okta and oidc-provider's default do. Read at start-up.
   */
  conformIdTokenClaims?: boolean;
  /** Token revocation (RFC 7009) with a revocation_endpoint in the metadata; on by default. Read at start-up. */
  revocation?: boolean;
  /** Demand a server-provided DPoP nonce (RFC 9449 §8) on token requests. Read per request. */
  dpopNonce: boolean;
  /** The JWS algorithm of ID tokens, JWT access tokens and `sign()` (an RSA key). Read at start-up. */
  signingAlg?: 'RS256' | 'PS256';
  /** Changes the configuration before each Provider is built (the FAPI 2.0 IdP: helpers/fapi-idp.ts). */
  configure?: (configuration: Configuration) => void;
  /**
   * Called on every Provider built (start-up and key rotation), before it serves: registers extra
   * grant types or middleware a test needs (token exchange, step-up logins).
   */
  extend?: (provider: Provider, idp: TestIdp) => void;
}

export interface TestIdp {
  issuer: string;
  port: number;
  provider: Provider;
  settings: IdpSettings;
  /** The private_key_jwt client's private key (PKCS#8 PEM) and JWK. */
  clientKey: { pem: string; jwk: jose.JWK; kid: string };
  /** The signing keys currently served (private JWKs). */
  signingKeys: jose.JWK[];
  /**
   * Register redirect and post-logout redirect URIs for an app at `baseURL` on every web client:
   * `baseURL` + each of `callbackPaths` (auth()'s `routes.callback`, or a provider's `/callback/<id>`).
   */
  allowApp(baseURL: string, callbackPaths?: string[]): void;
  /** Sign arbitrary JWTs with the IdP's current key (for forged-but-validly-signed tokens). */
  sign(payload: jose.JWTPayload, header?: Partial<jose.JWTHeaderParameters>): Promise<string>;
  /** Replace the IdP's signing keys with fresh ones (key rotation), keeping issuer and port. */
  rotateKeys(): Promise<void>;
  /** Stop serving (connections are refused) and serve again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function newSigningKey(alg = 'RS256'): jose.JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as jose.JWK;
  return { ...jwk, kid: `k-${Math.random().toString(36).slice(2, 10)}`, alg, use: 'sig' };
}

function clientKeyPair(): { pem: string; jwk: jose.JWK; publicJwk: jose.JWK; kid: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'client-key-1';
  return {
    pem: (privateKey as KeyObject).export({ format: 'pem', type: 'pkcs8' }).toString(),
    jwk: { ...(privateKey.export({ format: 'jwk' }) as jose.JWK), kid },
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as jose.JWK), kid, alg: 'ES256', use: 'sig' },
    kid,
  };
}

/** The default policy, plus: a requested `acr_values` the session does not meet prompts a login. */
function stepUpPolicy() {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('acr_not_met', 'the requested acr_values are not met', (ctx) => {
      // Asked once: a user who just signed in and still falls short gets the acr they have.
      if ((ctx.oidc.result as { login?: unknown } | undefined)?.login !== undefined) {
        return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      }
      const wanted = String(ctx.oidc.params?.acr_values ?? '')
        .split(' ')
        .filter(Boolean);
      const acr = ctx.oidc.session?.acr;
      return wanted.length > 0 && (acr === undefined || !wanted.includes(acr))
        ? interactionPolicy.Check.REQUEST_PROMPT
        : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}

/**
 * The dev login form's submit, with an `acr` (and `amr`): oidc-provider's development interactions
 * record none. Only the login prompt is handled; consent is granted by loadExistingGrant.
 */
function loginWithAcr(provider: Provider, settings: IdpSettings) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    let raw = '';
    for await (const chunk of ctx.req) raw += String(chunk);
    const form = new URLSearchParams(raw);
    if (form.get('prompt') !== 'login') ctx.throw(501, 'only the login prompt is handled here');
    const acr = settings.loginAcr();
    ctx.respond = false;
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      {
        login: {
          accountId: form.get('login') ?? '',
          acr,
          amr: acr.endsWith('mfa') ? ['pwd', 'otp'] : ['pwd'],
        },
      },
      { mergeWithLastSubmission: false },
    );
  };
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startIdp(overrides: Partial<IdpSettings> = {}): Promise<TestIdp> {
  const settings: IdpSettings = {
    accessTokenTTL: 3600,
    idTokenTTL: 3600,
    userScopes: (id) => (id === 'alice' ? ['orders:read', 'orders:write'] : ['orders:read']),
    requirePar: false,
    dpop: true,
    dpopNonce: false,
    loginAcr: () => 'urn:example:pwd',
    ...overrides,
  };
  const clientKey = clientKeyPair();
  const redirectUris = new Set<string>();
  const logoutUris = new Set<string>();
  const alg = settings.signingAlg ?? 'RS256';
  let signingKeys = [newSigningKey(alg)];

  // The private_key_jwt clients' public keys are served from a JWKS URI: oidc-provider's check of
  // inline `jwks` (`constructor === Object`) fails across the realms of jest's ESM mode.
  const clientJwks = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [clientKey.publicJwk] }));
  });
  const clientJwksUri = `http://127.0.0.1:${await listen(clientJwks)}/jwks`;

  // Reserve the port first: the issuer URL must be known before the Provider is built.
  let server = createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;

  const webClient = (client_id: string, extra: Partial<ClientMetadata>): ClientMetadata => ({
    client_id,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // Placeholders: the apps under test start on ports chosen after the IdP, so the real check
    // happens in the redirectUriAllowed override below against the URIs registered by allowApp().
    redirect_uris: ['http://127.0.0.1/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1/logout/callback'],
    ...extra,
  });

  const scopesFor = (ctx: KoaContextWithOIDC): string[] => {
    const entities = ctx.oidc.entities as Record<string, { accountId?: string } | undefined>;
    const accountId =
      ctx.oidc.session?.accountId ??
      entities['AuthorizationCode']?.accountId ??
      entities['RefreshToken']?.accountId;
    return accountId === undefined ? ['orders:read', 'orders:write'] : settings.userScopes(accountId);
  };

  const buildProvider = (): Provider => {
    const configuration: Configuration = {
      clients: [
        webClient('web', {
          client_secret: WEB_SECRET,
          token_endpoint_auth_method: 'client_secret_basic',
          ...(settings.backchannelLogoutUri === undefined
            ? {}
            : {
                backchannel_logout_uri: settings.backchannelLogoutUri,
                backchannel_logout_session_required: true,
              }),
        }),
        webClient('web-no-refresh', { client_secret: WEB_SECRET, grant_types: ['authorization_code'] }),
        webClient('web-post', {
          client_secret: WEB_SECRET,
          token_endpoint_auth_method: 'client_secret_post',
          // The client's key, for request objects (JAR) from a client that authenticates with a secret.
          jwks_uri: clientJwksUri,
        }),
        webClient('web-jwt', {
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES256',
          jwks_uri: clientJwksUri,
        }),
        {
          client_id: 'service',
          client_secret: SERVICE_SECRET,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          client_id: 'service-jwt',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES256',
          jwks_uri: clientJwksUri,
        },
      ],
      jwks: { keys: signingKeys as never[] },
      // Cookies of its own: IdPs on one host share a browser's cookies (ports do not separate them),
      // and the in-memory adapter is shared too, so another IdP must not take this one's session.
      cookies: {
        keys: [`test-cookie-key-0123456789-${port}`],
        names: {
          session: `_session_${port}`,
          interaction: `_interaction_${port}`,
          resume: `_resume_${port}`,
        },
      },
      adapter: MemoryAdapter,
      // Put the scopes' claims (email, profile) in the ID token, as most IdPs do.
      conformIdTokenClaims: settings.conformIdTokenClaims ?? false,
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name', 'given_name', 'family_name'],
      },
      async findAccount(_ctx, id) {
        return {
          accountId: id,
          async claims() {
            return {
              sub: id,
              email: `${id}@example.test`,
              email_verified: true,
              name: id.charAt(0).toUpperCase() + id.slice(1),
            };
          },
        };
      },
      features: {
        devInteractions: { enabled: true },
        rpInitiatedLogout: { enabled: true },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        pushedAuthorizationRequests: {
          enabled: true,
          requirePushedAuthorizationRequests: settings.requirePar,
        },
        backchannelLogout: { enabled: true },
        revocation: { enabled: settings.revocation ?? true },
        requestObjects: {
          enabled: settings.requestObjects !== undefined && settings.requestObjects !== false,
          requireSignedRequestObject: settings.requestObjects === 'required',
        },
        jwtResponseModes: { enabled: settings.jwtResponseModes === true },
        // DPoP (RFC 9449): tokens are bound when the client sends a proof; nonces on demand.
        dPoP: {
          enabled: settings.dpop,
          nonceSecret: DPOP_NONCE_SECRET,
          requireNonce: () => settings.dpopNonce,
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: (ctx: KoaContextWithOIDC) =>
            ctx.oidc.client?.grantTypeAllowed('client_credentials') ? API_AUDIENCE : undefined,
          useGrantedResource: async () => true,
          // The API's scopes, narrowed to what the signed-in user may have: a scope the user may not
          // have is dropped rather than asked for at a consent screen.
          getResourceServerInfo: async (ctx: KoaContextWithOIDC, resource: string) => ({
            scope: scopesFor(ctx).join(' '),
            audience: resource,
            accessTokenTTL: settings.accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg } },
          }),
        },
      },
      ...(settings.acrValues === undefined
        ? {}
        : { acrValues: settings.acrValues, interactions: { policy: stepUpPolicy() } }),
      // RFC 9068 §2.2.1: JWT access tokens carry the login's acr and auth_time, for requireAcr().
      extraTokenClaims: (ctx: KoaContextWithOIDC, token: object) => {
        const entities = ctx.oidc.entities as Record<string, { acr?: string; authTime?: number } | undefined>;
        const origin = entities['AuthorizationCode'] ?? entities['RefreshToken'];
        const login = origin === undefined ? {} : { acr: origin.acr, auth_time: origin.authTime };
        return { ...login, ...settings.extraTokenClaims?.(ctx, token) };
      },
      ttl: {
        AccessToken: () => settings.accessTokenTTL,
        ClientCredentials: () => settings.accessTokenTTL,
        IdToken: () => settings.idTokenTTL,
        RefreshToken: () => 24 * 3600,
        Interaction: () => 600,
        Session: () => 3600,
        Grant: () => 3600,
      },
      // oidc-provider drops offline_access without prompt=consent; first-party apps get refresh tokens anyway.
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: true,
      // First-party apps: consent is granted on the user's behalf, with the API scopes the user may have.
      async loadExistingGrant(ctx) {
        const accountId = ctx.oidc.session?.accountId;
        const clientId = ctx.oidc.client?.clientId;
        if (accountId === undefined || clientId === undefined) return undefined;
        const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
        const requested = String(ctx.oidc.params?.scope ?? '')
          .split(' ')
          .filter(Boolean);
        grant.addOIDCScope(requested.filter((s) => OIDC_SCOPES.has(s)).join(' '));
        const resources = ctx.oidc.params?.resource;
        const allowed = new Set(settings.userScopes(accountId));
        for (const resource of [resources ?? []].flat() as string[]) {
          grant.addResourceScope(resource, requested.filter((s) => allowed.has(s)).join(' '));
        }
        await grant.save();
        return grant;
      },
      clientBasedCORS: () => true,
      ...testProviderDefaults,
    };
    settings.configure?.(configuration);
    const provider = new Provider(issuer, configuration);
    // Exact-match redirect URI checks, against the apps registered with allowApp().
    provider.Client.prototype.redirectUriAllowed = (value: string) => redirectUris.has(value);
    provider.Client.prototype.postLogoutRedirectUriAllowed = (value: string) => logoutUris.has(value);
    provider.on('server_error', (_ctx, err) => {
      console.error('oidc-provider server_error', err);
    });
    if (settings.acrValues !== undefined) provider.use(loginWithAcr(provider, settings));
    settings.extend?.(provider, idp);
    return provider;
  };

  // Built once `idp` exists, so that `settings.extend` receives it.
  let provider: Provider;
  let running = true;

  const idp: TestIdp = {
    issuer,
    port,
    get provider() {
      return provider;
    },
    settings,
    clientKey: { pem: clientKey.pem, jwk: clientKey.jwk, kid: clientKey.kid },
    get signingKeys() {
      return signingKeys;
    },
    allowApp(baseURL, callbackPaths = ['/callback']) {
      const base = baseURL.replace(/\/$/, '');
      for (const path of callbackPaths) redirectUris.add(`${base}${path}`);
      // auth()'s routes.postLogoutCallback: the only place the IdP may send a browser after logout.
      logoutUris.add(`${base}/logout/callback`);
    },
    async sign(payload, header = {}) {
      const jwk = signingKeys[0]!;
      const key = await jose.importJWK(jwk, alg);
      return new jose.SignJWT(payload)
        .setProtectedHeader({ alg, kid: jwk.kid!, ...header } as jose.JWTHeaderParameters)
        .sign(key);
    },
    async rotateKeys() {
      signingKeys = [newSigningKey(alg)];
      await idp.stop();
      provider = buildProvider();
      await idp.start();
    },
    async stop() {
      if (!running) return;
      running = false;
      await closeServer(server);
    },
    async start() {
      if (running) return;
      server = createServer(provider.callback());
      await listen(server, port);
      running = true;
    },
    async close() {
      await idp.stop();
      await closeServer(clientJwks);
    },
  };
  provider = buildProvider();
  server.on('request', provider.callback());
  return idp;
}
