/**
 * What one `auth()` instance shares across requests: its frozen config, the protocol client
 * (discovery, keys, client authentication), the pending-login and pending-logout stores and the
 * refresher.
 */
import type { SigninConfig } from '../config/signin.js';
import { OidcClient } from '../protocol/oidc-client.js';
import { BindingCookies } from './binding-cookies.js';
import { logoutStore, type PendingLogout } from './logout-callback.js';
import { Refresher } from './refresh.js';
import type { StateStore } from './state-store.js';
import { type PendingLogin, transactionStore } from './transaction.js';

export interface SigninRuntime {
  readonly config: SigninConfig;
  readonly client: OidcClient;
  /** Pending logins, by `state`. */
  readonly transactions: StateStore<PendingLogin>;
  /** Pending RP-initiated logouts, by `state`. */
  readonly logouts: StateStore<PendingLogout>;
  readonly refresher: Refresher;
  /** Hosts other than baseURL's that logins were started at, warned about once each (bounded). */
  readonly warnedHosts: Set<string>;
}

export function createRuntime(config: SigninConfig): SigninRuntime {
  const client = new OidcClient({
    issuer: config.issuer,
    client: config.client,
    http: config.http,
    redirectUri: config.redirectUri,
    clockTolerance: config.clockTolerance,
    idTokenSigningAlg: config.idTokenSigningAlg,
  });
  const cookies = new BindingCookies({ cookieName: config.transactionCookieName, baseURL: config.baseURL });
  return {
    config,
    client,
    transactions: transactionStore(cookies),
    logouts: logoutStore(cookies),
    refresher: new Refresher({
      client,
      lock: config.refreshLock,
      logTtl: config.absoluteDuration,
      lockTtl: config.http.timeout * 2 + 1000,
    }),
    warnedHosts: new Set(),
  };
}
