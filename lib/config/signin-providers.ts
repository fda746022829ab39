/**
 * `auth()`'s IdPs: the classic config's one (`default`, its settings top-level and from the
 * environment), `providers`' several, or those `resolveProvider` returns at request time. With several,
 * the IdP settings go inside each provider and none comes from the environment.
 */
import {
  checkProviderId,
  type ProviderConfig,
  type ProviderDefaults,
  type ProviderOptions,
  providerConfig,
} from './provider.js';
import type { AuthOptions, ProvidersConfig } from './signin.js';
import { optionalNumber } from './validate.js';

/** The options that describe one IdP: top-level for a classic config, per provider otherwise. */
export const PER_PROVIDER = [
  'issuerBaseURL',
  'clientID',
  'clientSecret',
  'clientAssertionSigningKey',
  'clientAssertionSigningAlg',
  'clientAuthMethod',
  'tlsClientCertificate',
  'tlsClientKey',
  'tlsServerCA',
] as const;

/** Providers from `resolveProvider` kept at most, each with its issuer's metadata and keys. */
const DEFAULT_PROVIDER_CACHE_MAX_ENTRIES = 100;

/** The IdPs: the classic config's one, `providers`' several, or `resolveProvider`'s. */
export function checkProviders(
  options: AuthOptions,
  input: AuthOptions,
  defaults: ProviderDefaults,
): ProvidersConfig {
  const { providers, resolveProvider } = options;
  if (providers === undefined && resolveProvider === undefined) {
    const single = providerConfig('default', options, defaults, {
      path: '',
      env: true,
      distinctPaths: false,
    });
    if (options.defaultProvider !== undefined) {
      throw new TypeError('"defaultProvider" names one of "providers": set "providers" too');
    }
    return Object.freeze({
      kind: 'static',
      multi: false,
      byId: new Map([['default', single]]),
      defaultId: 'default',
    });
  }
  for (const route of ['callback', 'backchannelLogout'] as const) {
    if (defaults.routes[route] === '/') {
      throw new TypeError(
        `"routes.${route}" cannot be "/" with several providers: each has its own routes.${route}/<id>`,
      );
    }
  }
  for (const name of PER_PROVIDER) {
    if (input[name] !== undefined) {
      throw new TypeError(
        `"${name}" goes inside each provider when "${providers === undefined ? 'resolveProvider' : 'providers'}" is set`,
      );
    }
  }
  if (providers !== undefined && resolveProvider !== undefined) {
    throw new TypeError(
      '"providers" and "resolveProvider" cannot be combined: resolveProvider may return any provider',
    );
  }
  if (resolveProvider !== undefined) {
    if (typeof resolveProvider !== 'function') throw new TypeError('"resolveProvider" must be a function');
    if (options.defaultProvider !== undefined) {
      throw new TypeError(
        '"defaultProvider" is for "providers": resolveProvider chooses the provider itself',
      );
    }
    const maxEntries = optionalNumber(
      options.providerCacheMaxEntries,
      'providerCacheMaxEntries',
      DEFAULT_PROVIDER_CACHE_MAX_ENTRIES,
      { min: 1, max: 100_000 },
    );
    return Object.freeze({
      kind: 'resolved',
      multi: true,
      resolve: resolveProvider,
      defaults,
      maxEntries: Math.floor(maxEntries),
    });
  }
  if (typeof providers !== 'object' || providers === null || Array.isArray(providers)) {
    throw new TypeError('"providers" must be an object of providers by id: { corp: { issuerBaseURL, ... } }');
  }
  const byId = new Map<string, ProviderConfig>();
  for (const [id, provider] of Object.entries(providers)) {
    checkProviderId(id, `"providers" ids ("${id}")`);
    if (typeof provider !== 'object' || provider === null) {
      throw new TypeError(`"providers.${id}" must be an object ({ issuerBaseURL, clientID, ... })`);
    }
    byId.set(
      id,
      providerConfig(id, provider as ProviderOptions, defaults, {
        path: `providers.${id}.`,
        env: false,
        distinctPaths: true,
      }),
    );
  }
  if (byId.size === 0) throw new TypeError('"providers" must name at least one provider');
  const defaultId = options.defaultProvider ?? (byId.size === 1 ? [...byId.keys()][0] : undefined);
  if (defaultId !== undefined && !byId.has(defaultId)) {
    throw new TypeError(`"defaultProvider" must be one of "providers": ${[...byId.keys()].join(', ')}`);
  }
  if (options.providerCacheMaxEntries !== undefined) {
    throw new TypeError('"providerCacheMaxEntries" is for "resolveProvider": "providers" are all kept');
  }
  return Object.freeze({ kind: 'static', multi: true, byId, defaultId });
}
