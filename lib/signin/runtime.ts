/**
 * What one `auth()` instance shares across requests: its frozen config, the protocol client
 * (discovery, keys, client authentication), the pending-login store and the refresher.
 */
import type { SigninConfig } from '../config/signin.js';
import { OidcClient } from '../protocol/oidc-client.js';
import { Refresher } from './refresh.js';
import { TransactionStore } from './transaction.js';

export interface SigninRuntime {
  readonly config: SigninConfig;
  readonly client: OidcClient;
  readonly transactions: TransactionStore;
  readonly refresher: Refresher;
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
  return {
    config,
    client,
    transactions: new TransactionStore({ cookieName: config.transactionCookieName, baseURL: config.baseURL }),
    refresher: new Refresher({
      client,
      lock: config.refreshLock,
      logTtl: config.absoluteDuration,
      lockTtl: config.http.timeout * 2 + 1000,
    }),
  };
}
