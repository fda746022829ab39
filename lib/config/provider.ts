/**
 * One IdP of `auth()`: the single IdP of a classic config (id `default`), an entry of `providers`, or
 * what `resolveProvider` returns. Its own issuer, client and client authentication, authorization
 * parameters, PAR and DPoP; routes, session and the rest are `auth()`'s, shared by all.
 *
 * Each provider of several has its own callback and back-channel logout paths (`/callback/<id>`,
 * `/backchannel-logout/<id>`): an authorization response that arrives at another provider's path than
 * the one its login was started with is a mix-up (RFC 9700 §4.4.2.2), refused before the code goes
 * anywhere. A single IdP keeps `routes.callback` itself, as before.
 */
import type { Request } from 'express';
import {
  type ClientAuthConfig,
  type ClientAuthOptions,
  validateClientAuth,
} from '../protocol/client-auth.js';
import type { ClientProfile } from '../protocol/fapi2.js';
import { type AllowedTenants, checkAllowedTenants } from '../protocol/issuer-template.js';
import type { RequestObjectSettings } from '../protocol/request-object.js';
import { providerOptions, providerProfile, type SecurityProfile } from './fapi2.js';
import { requestObjectSettings } from './request-object.js';
import type { AuthorizationParams } from './signin.js';
import { checkAuthorizationParams } from './signin-params.js';
import { optionalBoolean, requireCallableUrl } from './validate.js';

/** One IdP of `auth({ providers })`. Options left out take `auth()`'s own value, where it has one. */
export interface ProviderOptions extends ClientAuthOptions {
  /** The IdP. Discovery reads `/.well-known/openid-configuration`. Required. */
  issuerBaseURL?: string | undefined;
  /**
   * This app's public URL for this provider's users, when it is not `auth()`'s: a tenant's own host
   * name (`https://acme.app.example`). Only the host may differ from `auth()`'s `baseURL`.
   * @default auth()'s `baseURL`
   */
  baseURL?: string | undefined;
  /** Merged over `auth()`'s `authorizationParams`. */
  authorizationParams?: AuthorizationParams | undefined;
  /** @default auth()'s `pushedAuthorizationRequests` */
  pushedAuthorizationRequests?: boolean | undefined;
  /** JAR (RFC 9101), signed with this provider's `clientAssertionSigningKey`. @default auth()'s `requestObject` */
  requestObject?: boolean | undefined;
  /** @default auth()'s `dpop` */
  dpop?: boolean | undefined;
  /** @default auth()'s `idTokenSigningAlg` */
  idTokenSigningAlg?: string | undefined;
  /** @default auth()'s `mergeUserInfo` */
  mergeUserInfo?: boolean | undefined;
  /** @default auth()'s `idpLogout` */
  idpLogout?: boolean | undefined;
  /** @default auth()'s `revokeOnLogout` */
  revokeOnLogout?: boolean | undefined;
  /**
   * Try a `prompt=none` login at this IdP for a browser without a session, when this provider is the
   * one a login here would use (`defaultProvider`, or `resolveProvider`'s answer; with
   * `resolveProvider`, auth()'s own `attemptSilentLogin` must be on for any provider to try).
   * @default auth()'s `attemptSilentLogin`
   */
  attemptSilentLogin?: boolean | undefined;
  /** For a templated issuer (`{tenantid}`): the tenants whose users may sign in. @default auth()'s `allowedTenants` */
  allowedTenants?: AllowedTenants | undefined;
}

/**
 * What `resolveProvider` returns: a provider and its `id`, stable for as long as its users' sessions.
 * A new object with the same settings reuses the provider built before (its metadata and keys); changed
 * settings build a new one. A `clientSecret` function counts as unchanged: let it read the current secret.
 */
export interface ResolvedProvider extends ProviderOptions {
  /** Letters, digits, `-` and `_` (64 at most): it names the provider in sessions and in its callback path. */
  id: string;
}

/** The per-provider settings that `auth()` also holds, as the default of every provider. */
interface ProviderSwitches {
  readonly dpop: boolean;
  readonly idTokenSigningAlg: string | undefined;
  readonly mergeUserInfo: boolean;
  readonly idpLogout: boolean;
  readonly revokeOnLogout: boolean;
  readonly attemptSilentLogin: boolean;
  readonly allowedTenants: AllowedTenants | undefined;
}

/**
 * Dynamic tenants: the provider for this request (by host, path or a tenant lookup), or `undefined`
 * for none (404 `ERR_UNKNOWN_PROVIDER`). `providerId` is set when portcullis asks for a provider it
 * recorded itself (the one a pending login or a session was started with, or a provider's own
 * callback path): return that provider, or `undefined` if it is gone.
 */
export type ResolveProvider = (
  req: Request,
  context: { readonly providerId?: string | undefined },
) => ResolvedProvider | undefined | Promise<ResolvedProvider | undefined>;

export interface ProviderConfig extends ProviderSwitches {
  readonly id: string;
  readonly issuer: URL;
  readonly baseURL: URL;
  readonly redirectUri: string;
  /** Where this provider's authorization responses arrive. */
  readonly callbackPath: string;
  /** Where this provider's logout tokens arrive. */
  readonly backchannelLogoutPath: string;
  readonly client: ClientAuthConfig;
  readonly authorizationParams: Readonly<AuthorizationParams> & { scope: string };
  readonly pushedAuthorizationRequests: boolean;
  /** JAR (RFC 9101): always, or when the IdP requires it; the client's key, if it has one. */
  readonly requestObject: RequestObjectSettings;
  /** With `auth({ profile })`: what this provider's logins check of its IdP and its answers. */
  readonly profile: ClientProfile | undefined;
}

/** What a provider takes from `auth()` when it does not say. */
export interface ProviderDefaults extends ProviderSwitches {
  readonly baseURL: URL;
  readonly routes: { readonly callback: string; readonly backchannelLogout: string };
  readonly authorizationParams: Readonly<AuthorizationParams>;
  readonly pushedAuthorizationRequests: boolean;
  readonly requestObject: boolean;
  readonly allowInsecureHttp: boolean;
  readonly profile: SecurityProfile | undefined;
  /** `auth()` was given a `fetch`: it makes the connections, and may present a TLS client certificate. */
  readonly customFetch: boolean;
}

const PROVIDER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function checkProviderId(id: unknown, option: string): string {
  if (typeof id !== 'string' || !PROVIDER_ID.test(id)) {
    throw new TypeError(`${option} must be 1 to 64 letters, digits, "-" or "_"`);
  }
  return id;
}

export function checkIdTokenSigningAlg(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/.test(value)) {
    throw new TypeError(`"${option}" must be an asymmetric JWS algorithm`);
  }
  return value;
}

/** A provider's `baseURL`: `auth()`'s, or one that differs from it only in the host. */
function providerBaseURL(value: unknown, defaults: ProviderDefaults, option: string): URL {
  if (value === undefined) return defaults.baseURL;
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`"${option}" must be an absolute URL`);
  }
  const base = defaults.baseURL;
  if (
    url.protocol !== base.protocol ||
    url.pathname !== base.pathname ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw new TypeError(
      `"${option}" may differ from auth()'s "baseURL" (${base.href}) only in its host: same scheme and path`,
    );
  }
  return url;
}

/**
 * A provider, checked. `path` prefixes option names in messages (`providers.corp.`); `env` is true for
 * the single IdP of a classic config, whose options may come from the environment; `distinctPaths`
 * gives it its own callback and back-channel logout paths (several providers, or `resolveProvider`).
 */
export function providerConfig(
  id: string,
  given: ProviderOptions,
  defaults: ProviderDefaults,
  { path, env, distinctPaths }: { path: string; env: boolean; distinctPaths: boolean },
): ProviderConfig {
  const options = providerOptions(defaults.profile, given, path);
  const issuer = requireCallableUrl(options.issuerBaseURL, `${path}issuerBaseURL`, {
    allowInsecureHttp: defaults.allowInsecureHttp,
    ...(env ? { envName: 'ISSUER_BASE_URL' } : {}),
  });
  const client = validateClientAuth(options, {
    envPrefix: env ? '' : undefined,
    optionPrefix: path,
    customFetch: defaults.customFetch,
  });
  const baseURL = providerBaseURL(options.baseURL, defaults, `${path}baseURL`);
  const own = checkAuthorizationParams(options.authorizationParams, `${path}authorizationParams`);
  const params = { ...defaults.authorizationParams, ...own };
  const { routes } = defaults;
  const callbackPath = distinctPaths ? `${routes.callback}/${id}` : routes.callback;
  const pick = (
    name:
      | 'pushedAuthorizationRequests'
      | 'requestObject'
      | 'dpop'
      | 'mergeUserInfo'
      | 'idpLogout'
      | 'revokeOnLogout'
      | 'attemptSilentLogin',
  ) => optionalBoolean(options[name], `${path}${name}`, defaults[name]);
  const dpop = pick('dpop');
  return Object.freeze({
    id,
    issuer,
    baseURL,
    redirectUri: baseURL.href.replace(/\/$/, '') + callbackPath,
    callbackPath,
    backchannelLogoutPath: distinctPaths ? `${routes.backchannelLogout}/${id}` : routes.backchannelLogout,
    client,
    authorizationParams: Object.freeze({ ...params, scope: String(params.scope ?? 'openid profile email') }),
    pushedAuthorizationRequests: pick('pushedAuthorizationRequests'),
    requestObject: requestObjectSettings(options, client, pick('requestObject'), { path, env }),
    dpop,
    idTokenSigningAlg:
      checkIdTokenSigningAlg(options.idTokenSigningAlg, `${path}idTokenSigningAlg`) ??
      defaults.idTokenSigningAlg,
    mergeUserInfo: pick('mergeUserInfo'),
    idpLogout: pick('idpLogout'),
    revokeOnLogout: pick('revokeOnLogout'),
    attemptSilentLogin: pick('attemptSilentLogin'),
    allowedTenants:
      checkAllowedTenants(options.allowedTenants, `${path}allowedTenants`) ?? defaults.allowedTenants,
    profile: providerProfile(defaults.profile, options, { client, dpop, path }),
  });
}
