/**
 * Every `auth()` option, declared once (see option-spec.ts). Sign-in keeps express-openid-connect's
 * variable names (`ISSUER_BASE_URL`, `BASE_URL`, `CLIENT_ID`, `AUTH_REQUIRED`, ...), so an app that
 * moves from it keeps its environment; `bearer()` and `serviceAgent()` read prefixed names instead.
 */
import type { ClientAuthOptions } from '../protocol/client-auth.js';
import { clientAuthTable } from './client-auth-options.js';
import type { OptionSpec, OptionsTable } from './option-spec.js';
import type { ProviderOptions } from './provider.js';
import type { AuthOptions } from './signin.js';

const insecureHttp = (value: unknown) =>
  value === true
    ? 'plain-http IdP URLs are accepted on non-loopback hosts, so codes and tokens cross the network unencrypted'
    : undefined;

/** The client-auth options of one provider: as the top level's, but never from the environment. */
const providerClientAuth = Object.fromEntries(
  Object.entries(clientAuthTable('', 'this app')).map(([name, spec]) => {
    const { env: _env, envByRule: _byRule, ...rest } = spec as OptionSpec;
    return [name, rest];
  }),
) as OptionsTable<ClientAuthOptions>;

/** One provider of `providers` (and what `resolveProvider` returns, with its `id`). */
export const PROVIDER_OPTIONS = {
  issuerBaseURL: { type: 'string', doc: 'This IdP (discovery). Required.' },
  baseURL: {
    type: 'string',
    default: "auth()'s `baseURL`",
    doc: "This app's URL for this provider's users, when only its host differs (a tenant's host name).",
  },
  ...providerClientAuth,
  authorizationParams: {
    type: 'AuthorizationParams',
    doc: "This IdP's authorization parameters, merged over auth()'s.",
    openFields: true,
  },
  pushedAuthorizationRequests: { type: 'boolean', default: "auth()'s", doc: 'PAR (RFC 9126) at this IdP.' },
  requestObject: {
    type: 'boolean',
    default: "auth()'s",
    doc: "Request objects (JAR, RFC 9101) at this IdP, signed with this provider's `clientAssertionSigningKey`.",
  },
  dpop: { type: 'boolean', default: "auth()'s", doc: 'DPoP-bound tokens (RFC 9449) from this IdP.' },
  idTokenSigningAlg: {
    type: 'string',
    default: "auth()'s",
    doc: 'The one algorithm this IdP signs ID tokens with.',
  },
  mergeUserInfo: {
    type: 'boolean',
    default: "auth()'s",
    doc: "Merge this IdP's userinfo into `req.oidc.user` at login.",
  },
  idpLogout: { type: 'boolean', default: "auth()'s", doc: 'Also log out at this IdP.' },
  revokeOnLogout: {
    type: 'boolean',
    default: "auth()'s",
    doc: "Revoke this IdP's tokens at logout (RFC 7009).",
  },
  attemptSilentLogin: {
    type: 'boolean',
    default: "auth()'s",
    doc: "Try a `prompt=none` login at this IdP when it is the one a login here would use (with `resolveProvider`, auth()'s own must be on).",
  },
  allowedTenants: {
    type: 'string[] | ((tid) => boolean)',
    default: "auth()'s",
    doc: 'For a templated issuer (`{tenantid}`): the tenants whose users may sign in.',
  },
} as const satisfies OptionsTable<ProviderOptions>;

export const SIGNIN_OPTIONS = {
  issuerBaseURL: {
    env: 'ISSUER_BASE_URL',
    type: 'string',
    doc: 'The IdP. Discovery reads `/.well-known/openid-configuration` (RFC 8414 as a fallback). Required.',
  },
  baseURL: {
    env: 'BASE_URL',
    type: 'string',
    doc: "This app's public URL; the `redirect_uri` is `baseURL` + `routes.callback`. Required.",
  },
  ...clientAuthTable('', 'this app'),
  providers: {
    type: 'Record<string, ProviderOptions>',
    doc: "Several IdPs by id, each with its own `issuerBaseURL`, client and client authentication (and if it wants, its own `authorizationParams`, PAR, DPoP, ...); routes and session are shared. `/login?provider=<id>` picks one. Each provider's redirect URI is `baseURL` + `routes.callback` + `/<id>`: a response at another provider's path than its login's is refused (mix-up, RFC 9700 §4.4). Instead of the top-level IdP options, which then never come from the environment.",
    each: { label: '.<id>', table: PROVIDER_OPTIONS },
  },
  defaultProvider: {
    type: 'string',
    default: 'the only provider, when there is one',
    doc: 'With `providers`: the one a login without `?provider=` uses; without it, such a login is a 400.',
  },
  resolveProvider: {
    type: '(req, { providerId }) => ResolvedProvider | undefined',
    doc: 'Dynamic tenants: the provider (with an `id`) for this request, by host, path or a tenant lookup; `undefined` is a 404. Only issuers it returns are ever contacted.',
  },
  providerCacheMaxEntries: {
    type: 'number',
    default: '100',
    doc: "With `resolveProvider`: providers kept with their issuer's metadata and keys, least recently used out first; a flood of tenants never holds more.",
  },
  allowedTenants: {
    env: 'ALLOWED_TENANTS',
    envKind: 'list',
    type: 'string[] | ((tid) => boolean)',
    doc: "For a templated issuer (Entra ID's `/organizations/v2.0`: metadata `issuer` with `{tenantid}`): the tenants (`tid`) whose users may sign in. Without it, none can.",
  },
  authorizationParams: {
    type: 'AuthorizationParams',
    default: "{ scope: 'openid profile email' }",
    doc: 'Parameters of every authorization request (`scope`, `audience`, `resource`, `prompt`, ...), IdP-specific ones included.',
    openFields: true,
    fields: {
      scope: { type: 'string', default: "'openid profile email'", doc: 'Must include `openid`.' },
      response_mode: {
        env: 'RESPONSE_MODE',
        type: "'query' | 'form_post' | 'jwt' | 'query.jwt' | 'form_post.jwt'",
        default: "'query'",
        doc: 'How the IdP returns the code; `form_post` works across sites as well. The `.jwt` modes (JARM) have the IdP sign the response: its signature, `iss`, `aud` and `exp` are checked before any parameter in it is used.',
      },
      audience: { type: 'string', doc: 'An API audience (Auth0 and others).' },
      resource: { type: 'string | string[]', doc: 'RFC 8707 resource indicator(s).' },
    },
  },
  routes: {
    type: 'Routes',
    doc: 'Where the login, callback, logout and back-channel logout routes are mounted.',
    fields: {
      login: { type: 'string', default: "'/login'", doc: 'Starts a login.' },
      callback: { type: 'string', default: "'/callback'", doc: 'Where the IdP sends the user back.' },
      logout: { type: 'string', default: "'/logout'", doc: 'Ends the session (GET or POST).' },
      postLogoutCallback: {
        type: 'string',
        default: "'/logout/callback'",
        doc: "Where the IdP returns after RP-initiated logout; only a `state` this browser's logout sent is accepted. Register `baseURL` + this as a `post_logout_redirect_uri`.",
      },
      backchannelLogout: {
        type: 'string',
        default: "'/backchannel-logout'",
        doc: 'Where the IdP POSTs logout tokens, with `backchannelLogout`.',
      },
    },
  },
  idpLogout: {
    env: 'IDP_LOGOUT',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Also log out at the IdP (RP-initiated logout) when it advertises an `end_session_endpoint`.',
  },
  revokeOnLogout: {
    env: 'REVOKE_ON_LOGOUT',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: "At logout, revoke the refresh and access tokens at the IdP's `revocation_endpoint` (RFC 7009). A failed or slow revocation (bounded by `httpTimeout`) is logged as a warning and never holds up the logout. Not on back-channel logout.",
  },
  attemptSilentLogin: {
    env: 'ATTEMPT_SILENT_LOGIN',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: "A browser's first HTML page view without a login tries `prompt=none` at the IdP once, and comes back to the same page signed in, or signed out with no error (`login_required` and the like). A cookie marks it tried: never a loop, nor after logout. One route only: `attemptSilentLogin()`.",
  },
  postLogoutRedirect: {
    env: 'POST_LOGOUT_REDIRECT',
    type: 'string',
    default: "'/'",
    doc: 'Where logout sends the user: a same-origin path.',
  },
  profile: {
    env: 'AUTH_PROFILE',
    type: "'fapi2'",
    doc: 'Follow the FAPI 2.0 Security Profile for every provider: PAR, DPoP (unless mTLS binds the tokens), `iss` in the authorization response, `private_key_jwt` or mTLS, PS256/ES256/EdDSA; a conflicting option is a start-up TypeError naming the rule ([docs/fapi2.md](fapi2.md)).',
  },
  pushedAuthorizationRequests: {
    env: 'PUSHED_AUTHORIZATION_REQUESTS',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Push the authorization parameters to the IdP first (RFC 9126); automatic when the IdP requires it.',
  },
  requestObject: {
    env: 'REQUEST_OBJECT',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Send the authorization request as a request object signed with `clientAssertionSigningKey` (JAR, RFC 9101), inside the PAR body when PAR is on; automatic when the IdP requires it (`require_signed_request_object`).',
  },
  dpop: {
    env: 'DPOP',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: "Bind the user's tokens to a key pair kept server-side with the session (RFC 9449).",
  },
  noStore: {
    env: 'NO_STORE',
    envKind: 'boolean',
    type: 'boolean',
    default: 'true',
    doc: "`Cache-Control: no-store` on the answers of `requiresAuth()` (and of every route with `authRequired`), so the back button after logout shows nothing cached. auth()'s own routes always send it.",
    weakens: (value) =>
      value === false
        ? 'browsers and shared caches may keep signed-in pages and show them after logout'
        : undefined,
  },
  backchannelLogout: {
    env: 'BACKCHANNEL_LOGOUT',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: "Mount `POST routes.backchannelLogout`: the IdP's logout tokens end the sessions they name.",
  },
  authRequired: {
    env: 'AUTH_REQUIRED',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Require login on every route after `auth()`.',
  },
  mergeUserInfo: {
    env: 'MERGE_USERINFO',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: "At login, read the userinfo endpoint and merge its claims into `req.oidc.user` (the ID token's win; another `sub` fails the login): for IdPs whose ID tokens carry no `name` or `email`.",
  },
  autoRefresh: {
    env: 'AUTO_REFRESH',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Refresh an expired access token before the route runs.',
  },
  absoluteDuration: {
    env: 'SESSION_ABSOLUTE_DURATION',
    envKind: 'number',
    type: 'number',
    default: '604800 (7 days)',
    doc: 'Seconds after login when the user must log in again, whatever their activity.',
  },
  sessionTouchInterval: {
    env: 'SESSION_TOUCH_INTERVAL',
    envKind: 'number',
    type: 'number',
    default: '60',
    doc: "Seconds between two touches of one session in the store by this process: express-session touches the store on every request whose session did not change, and `auth()` wraps the store in `throttleTouch()` so that it does so at most this often (an idle session may then end up to this many seconds early). 0 leaves express-session's touch on every request.",
  },
  clockTolerance: {
    env: 'CLOCK_TOLERANCE',
    envKind: 'number',
    type: 'number',
    default: '60',
    doc: 'Seconds of clock skew tolerated on ID token timestamps.',
  },
  httpTimeout: {
    env: 'HTTP_TIMEOUT',
    envKind: 'number',
    type: 'number',
    default: '5000',
    doc: 'Milliseconds before a call to the IdP is abandoned.',
  },
  fetch: {
    type: 'FetchLike',
    default: 'globalThis.fetch',
    doc: "The `fetch` for calls to the IdP (proxies, custom CAs, tracing). Not with `tlsClientCertificate`, whose calls go through portcullis's own https client.",
  },
  idTokenSigningAlg: {
    env: 'ID_TOKEN_SIGNING_ALG',
    type: 'string',
    default: 'any asymmetric algorithm the IdP advertises',
    doc: 'The one algorithm the IdP signs ID tokens with.',
  },
  allowInsecureHttp: {
    env: 'ALLOW_INSECURE_HTTP',
    envKind: 'boolean',
    type: 'boolean',
    default: 'false',
    doc: 'Allow plain-http IdP URLs on non-loopback hosts. For test networks only.',
    weakens: insecureHttp,
  },
  refreshLock: {
    type: 'RefreshLock',
    doc: "A lock shared by a fleet so that one process refreshes a session's tokens while the others wait (`redisTokenCache(client)` is one).",
  },
  transactionCookieName: {
    type: 'string',
    default: "'portcullis.tx'",
    doc: 'Prefix of the short-lived cookies (`<name>.<id>`, one per pending login) that tie a login to this browser.',
  },
  afterCallback: {
    type: '(req, res, tokenSet, context) => TokenSet | undefined',
    doc: 'Runs after the ID token is validated, before the session is written: throw to refuse the login, or return the token set to store.',
  },
  onEvent: {
    type: '(event: SigninEvent) => void',
    doc: 'Told of every `signin.…` event (login started, completed or failed with its reason, refresh, logout, back-channel logout) and the `idp.…` events of its calls to the IdP, as the `portcullis:signin` diagnostics channel is. No secrets.',
  },
  logger: {
    type: 'Logger',
    default: 'warnings to console.warn',
    doc: 'A pino-compatible logger for start-up warnings of weakened checks.',
  },
} as const satisfies OptionsTable<AuthOptions>;
