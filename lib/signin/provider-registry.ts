/**
 * Which provider a request is about, as named steps:
 *
 *   forLogin     a new login: `?provider=` or `res.oidc.login({ provider })`, else `defaultProvider`
 *                (or the only one). `providers`: an id that is none of them is 400
 *                `ERR_UNKNOWN_PROVIDER`; `resolveProvider`: its answer for this request, none is 404
 *   named        a provider portcullis recorded: the one a pending login or a session was started
 *                with, or a callback path's. `providers`: by id; `resolveProvider`: asked again with
 *                `{ providerId }`, and only an answer with that very id counts
 *   fromCache    `resolveProvider`: a provider built before for this id, from the same definition (the
 *                same object, or the same settings), is reused with its metadata and keys; otherwise
 *                the definition is checked like an entry of `providers` and built, and the least
 *                recently used provider beyond `providerCacheMaxEntries` is dropped with its issuer's
 *                metadata and keys. Only issuers the resolver returned are ever contacted.
 *                Concurrent first requests for a new tenant share one build, hence one discovery
 *                and one JWKS fetch; each still asks the resolver, whose answer is its own.
 *   issuerOwner  for mix-up errors: which other provider known now has an issuer (no network)
 */
import { createHash, KeyObject } from 'node:crypto';
import type { Request } from 'express';
import { checkKnownOptions } from '../config/option-spec.js';
import {
  checkProviderId,
  type ProviderConfig,
  providerConfig,
  type ResolvedProvider,
} from '../config/provider.js';
import type { ProvidersConfig } from '../config/signin.js';
import { PROVIDER_OPTIONS } from '../config/signin-options.js';
import { PortcullisError } from '../errors.js';
import { BoundedLru } from '../protocol/bounded-lru.js';
import type { ProviderRuntime } from './runtime.js';

interface Cached {
  readonly runtime: ProviderRuntime;
  readonly fingerprint: string;
  /** The object the resolver returned last: the same one again needs no fingerprint. */
  definition: ResolvedProvider;
}

const RESOLVED_PROVIDER_OPTIONS = {
  id: { type: 'string', doc: "The provider's id." },
  ...PROVIDER_OPTIONS,
} as const;

function unknownProvider(status: 400 | 404, message: string): PortcullisError {
  return new PortcullisError('ERR_UNKNOWN_PROVIDER', message, { status });
}

/** An id from a request, as an error message may show it. */
const shown = (id: string) => JSON.stringify(id.slice(0, 64));

/**
 * The settings of a definition, as one hash: two definitions with the same fingerprint make the same
 * provider, so a resolver that builds a new object on every call (from a database row) does not
 * rebuild the provider and refetch its metadata each time. Secrets and keys enter only hashed. A
 * function (a `clientSecret` that reads the current secret) counts as the same function whatever
 * its identity: an inline arrow is a new one on every call; the one of the first definition is kept.
 */
function fingerprint(definition: ResolvedProvider): string {
  const text = JSON.stringify(definition, (_key, value: unknown) => {
    if (typeof value === 'function') return '#function';
    if (value instanceof KeyObject) {
      const material =
        value.type === 'secret'
          ? value.export().toString('base64')
          : JSON.stringify(value.export({ format: 'jwk' }));
      return `#key:${createHash('sha256').update(material).digest('base64url')}`;
    }
    return value;
  });
  return createHash('sha256').update(text).digest('base64url');
}

function sameIssuer(issuer: string, configured: URL): boolean {
  try {
    return new URL(issuer).href === configured.href;
  } catch {
    return false;
  }
}

export class ProviderRegistry {
  readonly #config: ProvidersConfig;
  readonly #build: (provider: ProviderConfig) => ProviderRuntime;
  readonly #static: ReadonlyMap<string, ProviderRuntime>;
  readonly #cache: BoundedLru<string, Cached> | undefined;

  constructor(config: ProvidersConfig, build: (provider: ProviderConfig) => ProviderRuntime) {
    this.#config = config;
    this.#build = build;
    this.#static =
      config.kind === 'static' ? new Map([...config.byId].map(([id, p]) => [id, build(p)])) : new Map();
    this.#cache = config.kind === 'resolved' ? new BoundedLru(config.maxEntries) : undefined;
  }

  /** Several providers (or resolveProvider): each has its own callback path, and sessions name theirs. */
  get multi(): boolean {
    return this.#config.multi;
  }

  /** Providers built from resolveProvider's answers and kept now (never more than the bound). */
  get cachedCount(): number {
    return this.#cache?.size ?? 0;
  }

  /** The provider of a new login at this request. */
  async forLogin(req: Request, requested: string | undefined): Promise<ProviderRuntime> {
    const config = this.#config;
    if (config.kind === 'resolved') {
      const found = await this.#resolve(req, requested);
      if (found === undefined) throw unknownProvider(404, 'there is no sign-in provider for this request');
      return found;
    }
    const ids = [...config.byId.keys()];
    if (!config.multi) {
      if (requested !== undefined && requested !== 'default') {
        throw unknownProvider(400, `there is no provider ${shown(requested)}: this app has one IdP`);
      }
      return this.#static.get('default')!;
    }
    const id = requested ?? config.defaultId;
    if (id === undefined) {
      throw unknownProvider(
        400,
        `choose a provider to sign in with: ${ids.map((i) => `?provider=${i}`).join(', ')}`,
      );
    }
    const found = this.#static.get(id);
    if (found === undefined) {
      throw unknownProvider(400, `there is no provider ${shown(id)}; this app has ${ids.join(', ')}`);
    }
    return found;
  }

  /** A provider portcullis recorded; `undefined` when it is not (or no longer) one. */
  named(req: Request, id: string): ProviderRuntime | undefined | Promise<ProviderRuntime | undefined> {
    return this.#config.kind === 'static' ? this.#static.get(id) : this.#resolve(req, id);
  }

  /** The id of another provider known now whose issuer is `issuer` (a mix-up's other party). */
  issuerOwner(issuer: string, except: string): string | undefined {
    const runtimes =
      this.#cache === undefined ? this.#static.values() : [...this.#cache.values()].map((c) => c.runtime);
    for (const runtime of runtimes) {
      if (runtime.config.id !== except && sameIssuer(issuer, runtime.config.issuer)) return runtime.config.id;
    }
    return undefined;
  }

  async #resolve(req: Request, providerId: string | undefined): Promise<ProviderRuntime | undefined> {
    const config = this.#config;
    if (config.kind !== 'resolved') return undefined;
    const definition: unknown = await config.resolve(req, providerId === undefined ? {} : { providerId });
    if (definition === undefined || definition === null) return undefined;
    if (typeof definition !== 'object' || Array.isArray(definition)) {
      throw new TypeError(
        'resolveProvider must return a provider ({ id, issuerBaseURL, clientID, ... }) or undefined',
      );
    }
    const resolved = definition as ResolvedProvider;
    const id = checkProviderId(resolved.id, 'the "id" of the provider that resolveProvider returned');
    if (providerId !== undefined && id !== providerId) return undefined;
    // From here to the set below nothing awaits: of a burst of first requests for a new tenant, the
    // first to get its resolver's answer builds the provider and the others find it, with its
    // discovery already in flight (single flight, discovery.ts): the tenant's IdP sees one fetch.
    // An await here would let each request build its own and fetch (tenant-burst.test.ts).
    const cached = this.#cache!.get(id);
    if (cached?.definition === resolved) return cached.runtime;
    const print = fingerprint(resolved);
    if (cached?.fingerprint === print) {
      cached.definition = resolved;
      return cached.runtime;
    }
    const path = `resolveProvider(${id}).`;
    checkKnownOptions('auth()', RESOLVED_PROVIDER_OPTIONS, resolved, path);
    const { id: _id, ...options } = resolved;
    const provider = providerConfig(id, options, config.defaults, { path, env: false, distinctPaths: true });
    const runtime = this.#build(provider);
    this.#cache!.set(id, { runtime, fingerprint: print, definition: resolved });
    return runtime;
  }
}
