/**
 * The demo's built-in IdP: oidc-provider (the OpenID-certified server) in-process, with the demo's
 * clients, two demo users and a small sign-in page of our own that checks their passwords.
 * For the demo only: keys are generated at start, data lives in memory.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import { expiredPage, type IdpLook, idpPages, loginPage, MAIN_LOOK } from './idp-pages.js';
import { MemoryAdapter } from './memory-adapter.js';
import { redirectHint, type YourClients, yourClientMetadata } from './your-clients.js';

export interface DemoUser {
  password: string;
  name: string;
  scopes: string[];
}

export const DEMO_USERS: Record<string, DemoUser> = {
  alice: { password: 'wonderland', name: 'Alice Liddell', scopes: ['orders:read', 'orders:write'] },
  bob: { password: 'builder', name: 'Bob Builder', scopes: ['orders:read'] },
};

/** The users of the partner realm: another organisation's IdP, with people of its own. */
export const PARTNER_USERS: Record<string, DemoUser> = {
  carol: { password: 'partnership', name: 'Carol Partner', scopes: ['orders:read'] },
};

/** The demo's own IdP, and Partner Co.'s: their users, their pages, and their cookies. */
const REALMS: Record<
  Realm,
  { users: Record<string, DemoUser>; look: IdpLook; cookie: string; mail: string }
> = {
  main: { users: DEMO_USERS, look: MAIN_LOOK, cookie: '', mail: 'demo.example' },
  partner: {
    users: PARTNER_USERS,
    look: {
      name: 'Partner Co.',
      brand: "Partner Co. (the demo's second IdP)",
      usersHint: "Partner Co.'s user: <b>carol</b> / partnership (orders:read). The app trusts this IdP too.",
    },
    // Both IdPs listen on 127.0.0.1, where a browser shares cookies across ports: names of its own.
    cookie: 'partner_',
    mail: 'partner.example',
  },
};

export type Realm = 'main' | 'partner';

export interface DemoIdpOptions {
  port: number;
  appBaseURL: string;
  apiAudience: string;
  webClient: { id: string; secret: string };
  /** The worker's client (client credentials); none at Partner Co.'s IdP. */
  workerClient?: { id: string; secret: string } | undefined;
  /** Clients for your own app and service (demo-app/your-clients.ts). */
  yours?: YourClients | undefined;
  /** Access token lifetime in seconds (short, so that the Refresh button has something to do). */
  accessTokenTTL?: number;
  /** `main`: the demo's own users (alice, bob); `partner`: Partner Co.'s IdP (carol). @default 'main' */
  realm?: Realm;
  /** The app's callback path here: `/callback`, or `/callback/<provider>` when the app has several IdPs. */
  callbackPath?: string;
}

export interface DemoIdp {
  issuer: string;
  close(): Promise<void>;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) break;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startDemoIdp(options: DemoIdpOptions): Promise<DemoIdp> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const realm = options.realm ?? 'main';
  const { users, look, cookie, mail } = REALMS[realm];
  const callbackPath = options.callbackPath ?? '/callback';
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'demo-key-1', alg: 'RS256', use: 'sig' };
  const base = options.appBaseURL.replace(/\/$/, '');

  const yours = options.yours;
  const pages = idpPages({
    appURL: base,
    look,
    // An app at another URL than MY_APP_URL is the likeliest newcomer mistake: say how to fix it.
    errorHint: (out) =>
      out.error === 'invalid_redirect_uri' && yours !== undefined ? redirectHint(yours) : undefined,
  });
  const audiences = new Set([options.apiAudience, ...(yours === undefined ? [] : [yours.apiAudience])]);

  const scopesFor = (ctx: KoaContextWithOIDC): string[] => {
    const entities = ctx.oidc.entities as Record<string, { accountId?: string } | undefined>;
    const accountId =
      ctx.oidc.session?.accountId ??
      entities['AuthorizationCode']?.accountId ??
      entities['RefreshToken']?.accountId;
    if (accountId === undefined) return ['orders:read', 'orders:write']; // the worker (client credentials)
    return users[accountId]?.scopes ?? [];
  };

  const configuration: Configuration = {
    clients: [
      {
        client_id: options.webClient.id,
        client_secret: options.webClient.secret,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${base}${callbackPath}`],
        post_logout_redirect_uris: [`${base}/logout/callback`],
      },
      ...(options.workerClient === undefined
        ? []
        : [
            {
              client_id: options.workerClient.id,
              client_secret: options.workerClient.secret,
              grant_types: ['client_credentials'],
              response_types: [],
              redirect_uris: [],
            },
          ]),
      ...(yours === undefined ? [] : yourClientMetadata(yours)),
    ],
    jwks: { keys: [signingKey as never] },
    cookies: {
      keys: [`portcullis-demo-idp-cookie-key-${realm}`],
      names: {
        session: `_${cookie}session`,
        interaction: `_${cookie}interaction`,
        resume: `_${cookie}resume`,
      },
    },
    adapter: MemoryAdapter,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    async findAccount(_ctx, id) {
      const user = users[id];
      if (user === undefined) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id, name: user.name, email: `${id}@${mail}`, email_verified: true }),
      };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // A client-credentials token asked for without `resource` is for its own client's API.
        defaultResource: (ctx: KoaContextWithOIDC) => {
          const client = ctx.oidc.client;
          if (!client?.grantTypeAllowed('client_credentials')) return undefined;
          return client.clientId === yours?.service.id ? yours.apiAudience : options.apiAudience;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx: KoaContextWithOIDC, resource: string) => {
          if (!audiences.has(resource)) {
            // invalid_target names what this IdP knows, so a mistyped AUDIENCE says what to fix.
            throw new errors.InvalidTarget(`unknown resource; this IdP knows ${[...audiences].join(', ')}`);
          }
          return {
            scope: scopesFor(ctx).join(' '),
            audience: resource,
            accessTokenTTL: options.accessTokenTTL ?? 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: 300,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      RefreshToken: 86_400,
    },
    async loadExistingGrant(ctx) {
      // First-party demo app: consent is implied, limited to the scopes the user may have.
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      if (accountId === undefined || clientId === undefined) return undefined;
      const grant = new ctx.oidc.provider.Grant({ accountId, clientId });
      const requested = String(ctx.oidc.params?.['scope'] ?? '').split(' ');
      grant.addOIDCScope(
        requested.filter((s) => ['openid', 'profile', 'email', 'offline_access'].includes(s)).join(' '),
      );
      const allowed = new Set(users[accountId]?.scopes ?? []);
      for (const resource of [ctx.oidc.params?.['resource'] ?? []].flat() as string[]) {
        grant.addResourceScope(resource, requested.filter((s) => allowed.has(s)).join(' '));
      }
      await grant.save();
      return grant;
    },
    renderError: pages.renderError,
  };
  const provider = new Provider(issuer, configuration);
  provider.use(pages.notFound);
  const providerCallback = provider.callback();

  async function interaction(
    req: IncomingMessage,
    res: ServerResponse,
    uid: string,
    action: string | undefined,
  ) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      const login = form.get('login') ?? '';
      const user = users[login];
      if (user === undefined || user.password !== form.get('password')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(loginPage(uid, { error: 'Unknown user or wrong password.', login, look }));
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: login } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (details.prompt.name === 'login') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(uid, { look }));
      return;
    }
    // Consent is implied (loadExistingGrant); any other prompt is finished as it stands.
    await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
  }

  const server: Server = createServer((req, res) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/.exec((req.url ?? '').split('?')[0] ?? '');
    if (match === null) {
      providerCallback(req, res);
      return;
    }
    interaction(req, res, match[1]!, match[2]).catch(() => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(expiredPage(base));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
