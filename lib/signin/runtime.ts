/**
 * What one `auth()` instance shares across requests: its frozen config, its providers (each with its
 * protocol client: discovery, keys, client authentication; and its refresher), the pending-login and
 * pending-logout stores, and the DPoP handles of its sessions.
 */
import * as oauth from 'oauth4webapi';
import type { ProviderConfig } from '../config/provider.js';
import type { SigninConfig } from '../config/signin.js';
import { DpopKeyRing } from '../protocol/dpop/session-keys.js';
import { createEmitter, type Emit } from '../protocol/observability/emitter.js';
import type { SigninEvent } from '../protocol/observability/events.js';
import { OidcClient } from '../protocol/oidc-client.js';
import { BindingCookies } from './binding-cookies.js';
import { logoutStore, type PendingLogout } from './logout-callback.js';
import { ProviderRegistry } from './provider-registry.js';
import { Refresher } from './refresh.js';
import type { StateStore } from './state-store.js';
import { type PendingLogin, transactionStore } from './transaction.js';

/** One provider, ready to use: its settings, its protocol client and its refresher. */
export interface ProviderRuntime {
  readonly config: ProviderConfig;
  readonly client: OidcClient;
  readonly refresher: Refresher;
}

export interface SigninRuntime {
  readonly config: SigninConfig;
  readonly providers: ProviderRegistry;
  /** Pending logins, by `state`. */
  readonly transactions: StateStore<PendingLogin>;
  /** Pending RP-initiated logouts, by `state`. */
  readonly logouts: StateStore<PendingLogout>;
  /** The DPoP handles of every provider's sessions (a session's key is its own, whichever its provider). */
  readonly dpopKeys: DpopKeyRing;
  /** Hosts other than baseURL's that logins were started at, warned about once each (bounded). */
  readonly warnedHosts: Set<string>;
  /** Tells `onEvent`, the `portcullis:signin` channel and OpenTelemetry's metrics. */
  readonly emit: Emit<SigninEvent>;
}

function providerRuntime(
  config: SigninConfig,
  provider: ProviderConfig,
  dpopKeys: DpopKeyRing,
  emit: Emit<SigninEvent>,
): ProviderRuntime {
  const client = new OidcClient({
    issuer: provider.issuer,
    client: provider.client,
    http: config.http,
    redirectUri: provider.redirectUri,
    clockTolerance: config.clockTolerance,
    idTokenSigningAlg: provider.idTokenSigningAlg,
    allowedTenants: provider.allowedTenants,
    dpopKeys,
    requestObject: provider.requestObject,
    emit,
    profile: provider.profile,
  });
  return {
    config: provider,
    client,
    refresher: new Refresher({
      client,
      lock: config.refreshLock,
      logTtl: config.absoluteDuration,
      lockTtl: config.http.timeout * 2 + 1000,
    }),
  };
}

export function createRuntime(config: SigninConfig): SigninRuntime {
  const cookies = new BindingCookies({ cookieName: config.transactionCookieName, baseURL: config.baseURL });
  const dpopKeys = new DpopKeyRing({ [oauth.clockSkew]: 0 });
  const emit = createEmitter('signin', config.onEvent);
  return {
    config,
    providers: new ProviderRegistry(config.providers, (provider) =>
      providerRuntime(config, provider, dpopKeys, emit),
    ),
    transactions: transactionStore(cookies),
    logouts: logoutStore(cookies),
    dpopKeys,
    warnedHosts: new Set(),
    emit,
  };
}
