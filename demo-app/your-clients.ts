/**
 * Clients for your own app, next to the demo's: the README's "your own app in five minutes" path and
 * examples/ sign in against the built-in IdP with these, unchanged. A web app at MY_APP_URL (client
 * `my-app`) and a service (client `my-service`, client credentials), both given tokens for your API
 * (MY_API_AUDIENCE) with the demo users' scopes.
 */
import type { ClientMetadata } from 'oidc-provider';

export interface YourClients {
  /** Where your app runs: its redirect URIs are `appURL/callback` and `appURL/logout/callback`. */
  appURL: string;
  /** Your API's identifier: the resource indicator to ask for, and the `aud` of its tokens. */
  apiAudience: string;
  app: { id: string; secret: string };
  service: { id: string; secret: string };
}

/** MY_APP_URL (default http://localhost:3001) and MY_API_AUDIENCE (default MY_APP_URL + /api). */
export function yourClients(env: Record<string, string | undefined> = process.env): YourClients {
  const appURL = (env['MY_APP_URL'] || 'http://localhost:3001').replace(/\/$/, '');
  return {
    appURL,
    apiAudience: env['MY_API_AUDIENCE'] || `${appURL}/api`,
    app: { id: 'my-app', secret: 'my-app-secret' },
    service: { id: 'my-service', secret: 'my-service-secret' },
  };
}

const LOOPBACK_ALIAS: Record<string, string> = { localhost: '127.0.0.1', '127.0.0.1': 'localhost' };

/**
 * The URL and, on a loopback host, its other spelling: newcomers open http://127.0.0.1:3001 as often
 * as http://localhost:3001, and the redirect URI must match whichever their BASE_URL says.
 */
export function loopbackAliases(url: string): string[] {
  const parsed = new URL(url);
  const other = LOOPBACK_ALIAS[parsed.hostname];
  if (other === undefined) return [url];
  parsed.hostname = other;
  return [url, parsed.href.replace(/\/$/, '')];
}

/** The two clients as oidc-provider registers them. */
export function yourClientMetadata(yours: YourClients): ClientMetadata[] {
  const bases = loopbackAliases(yours.appURL);
  return [
    {
      client_id: yours.app.id,
      client_secret: yours.app.secret,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: bases.map((base) => `${base}/callback`),
      post_logout_redirect_uris: bases.map((base) => `${base}/logout/callback`),
      // DPoP allowed (auth({ dpop: true }) gets bound tokens) but not required: Bearer works too.
      dpop_bound_access_tokens: false,
    },
    {
      client_id: yours.service.id,
      client_secret: yours.service.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ];
}

/** Said on the IdP's error page when a redirect URI is not registered. */
export function redirectHint(yours: YourClients): string {
  return `Your own app? This IdP accepts the client "${yours.app.id}" with BASE_URL ${loopbackAliases(yours.appURL).join(' or ')}. For another URL, restart it with MY_APP_URL set to your app's BASE_URL: MY_APP_URL=http://localhost:8080 npm run demo`;
}

/** What `npm run demo` prints, so that a newcomer can copy it into their app's environment. */
export function describeYourClients(yours: YourClients, issuer: string): string {
  const [base, alias] = loopbackAliases(yours.appURL);
  return [
    'your own app (examples/, or yours) can use these clients of the built-in IdP:',
    `  ISSUER_BASE_URL=${issuer}`,
    `  sign-in:  CLIENT_ID=${yours.app.id} CLIENT_SECRET=${yours.app.secret} BASE_URL=${base}`,
    `            redirect URI ${base}/callback${alias === undefined ? '' : ` (or ${alias}/callback)`}, after logout ${base}/logout/callback`,
    `  service:  SERVICE_CLIENT_ID=${yours.service.id} SERVICE_CLIENT_SECRET=${yours.service.secret} (client credentials)`,
    `  your API: AUDIENCE=${yours.apiAudience} (the resource indicator to ask for), scopes orders:read orders:write`,
  ].join('\n');
}
