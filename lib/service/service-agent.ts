/**
 * `serviceAgent(options)`: client-credentials tokens for outbound calls (API.md §3). The factory
 * does the work (validation, discovery, cache, token source); the methods only apply it.
 */
import { createHash } from 'node:crypto';
import type * as oauth from 'oauth4webapi';
import {
  type ServiceAgentOptions,
  serviceOptionsFromEnv,
  validateServiceOptions,
} from '../config/service.js';
import { IdpUnavailableError, OAuthResponseError, PortcullisError } from '../errors.js';
import { withBackoff } from '../protocol/backoff.js';
import { createClientAuth } from '../protocol/client-auth.js';
import {
  clientCredentialsRequest,
  type IssuedToken,
  processClientCredentialsResponse,
  tokenCall,
  tokenRequestError,
} from '../protocol/client-credentials.js';
import { createDiscovery } from '../protocol/discovery.js';
import type { FetchLike, HttpSettings } from '../protocol/http.js';
import { clientTransport, endpointUrl } from '../protocol/mtls/client-transport.js';
import { createEmitter } from '../protocol/observability/emitter.js';
import type { AgentGrant } from '../protocol/observability/events.js';
import { tracedFetch } from '../protocol/observability/spans.js';
import { processTokenExchangeResponse, tokenExchangeRequest } from '../protocol/token-exchange.js';
import { type AxiosLikeInstance, attachAxios } from './axios.js';
import { agentDpop, bearerCredentials, type CallCredentials } from './call-credentials.js';
import { axiosWithCertificate } from './client-certificate.js';
import { createServiceFetch, type ServiceFetch } from './fetch.js';
import { guardCache } from './guarded-cache.js';
import { memoryTokenCache } from './memory-cache.js';
import { tokenCacheKey } from './token-cache.js';
import { TokenSource } from './token-source.js';

/** A token as `getToken()` returns it. */
export interface ServiceToken {
  readonly access_token: string;
  /** `DPoP` with `dpop` on: send it with `Authorization: DPoP` and a proof of the agent's key. */
  readonly token_type: 'Bearer' | 'DPoP';
  /** Seconds since the epoch, like `req.oidc.accessToken.expires_at`. */
  readonly expires_at: number;
  readonly scope?: string;
}

export interface ServiceAgent {
  /** A token safe to send now: cached, refreshed ahead of expiry, one request for all concurrent callers. */
  getToken(): Promise<ServiceToken>;
  /** Add the token to every request of this axios instance (only this one); returns the instance. */
  attach<T extends AxiosLikeInstance>(instance: T): T;
  /**
   * fetch with `Authorization: Bearer <token>` (or `DPoP <token>` and a fresh proof); one retry with a
   * new token on a 401 invalid_token, and one with the new nonce on a DPoP `use_dpop_nonce` challenge.
   */
  fetch: ServiceFetch;
  /** Drop the cached token (here and in the shared cache): the next call fetches a new one. */
  invalidate(): Promise<void>;
  /** Wait for an in-flight token request and stop; later calls reject. Closes no client you passed in. */
  close(): Promise<void>;
  /**
   * With `tokenExchange: true`: an agent for calls on behalf of a user, whose tokens come from the
   * RFC 8693 token-exchange grant with `subjectToken` (the user's access token), cached per subject
   * token and audience until shortly before they expire.
   * @example await orders.onBehalfOf(req.oidc.accessToken!.access_token).fetch('https://ledger.example.com/entries');
   * @see https://www.rfc-editor.org/rfc/rfc8693
   */
  onBehalfOf(subjectToken: string): OnBehalfOfAgent;
}

/** What `onBehalfOf()` returns: the agent's calls, with the exchanged token. */
export type OnBehalfOfAgent = Pick<ServiceAgent, 'getToken' | 'attach' | 'fetch'>;

function isUseDpopNonceError(err: unknown): boolean {
  return err instanceof OAuthResponseError && err.error === 'use_dpop_nonce';
}

/** On-behalf-of token sources kept per process; the least recently used beyond this are dropped. */
const MAX_SUBJECTS = 1000;

/** How long one cache operation may take before the agent falls back to its in-process cache. */
const CACHE_TIMEOUT_MS = 500;

function httpSettings(
  fetchOption: FetchLike | undefined,
  timeout: number,
  allowInsecureHttp: boolean,
): HttpSettings {
  // Resolved per call, so that a fetch patched after start-up (proxies, test doubles) is honoured.
  // Every call made through these settings goes to the IdP: each is an HTTP client span.
  return {
    fetch: tracedFetch((input, init) => (fetchOption ?? globalThis.fetch)(input, init)),
    timeout,
    allowInsecureHttp,
  };
}

/**
 * Create an agent that gets client-credentials tokens (RFC 6749 §4.4) and adds them to axios and
 * fetch calls. Options may come from the environment: see the README's table.
 * @example
 * const billing = serviceAgent({ issuerBaseURL, clientID, clientSecret, audience: 'https://billing.example.com' });
 * const api = billing.attach(axios.create({ baseURL: 'https://billing.example.com' }));
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export function serviceAgent(options: ServiceAgentOptions = {}): ServiceAgent {
  const config = validateServiceOptions(serviceOptionsFromEnv(options, process.env));
  // With a TLS client certificate (RFC 8705), token requests and the agent's calls present it.
  const transport = clientTransport(
    httpSettings(config.fetch, config.httpTimeout, config.allowInsecureHttp),
    config.clientAuth,
    tracedFetch,
  );
  const http = transport.http;
  const emit = createEmitter('agent', config.onEvent);
  const discovery =
    config.issuer === undefined ? undefined : createDiscovery({ issuer: config.issuer, http, emit });
  const clientAuth = createClientAuth(config.clientAuth);
  const client: oauth.Client = { client_id: config.clientAuth.clientID };
  const dpop = config.dpop === undefined ? undefined : agentDpop(config.dpop, client);
  const credentials: CallCredentials = dpop ?? bearerCredentials;
  const key = tokenCacheKey({
    endpoint: (config.tokenEndpoint ?? config.issuer)!.href,
    clientID: client.client_id,
    params: config.params,
    // A DPoP-bound token is only of use to a holder of its key: processes with other keys never share.
    dpopJkt: config.dpop?.thumbprint,
    x5t: config.clientAuth.certificate?.thumbprint,
  });

  async function authorizationServer(): Promise<oauth.AuthorizationServer> {
    if (config.tokenEndpoint !== undefined) {
      // RFC 7523 lets a private_key_jwt assertion name the token endpoint as its audience.
      return {
        issuer: (config.issuer ?? config.tokenEndpoint).href,
        token_endpoint: config.tokenEndpoint.href,
      };
    }
    const metadata = await discovery!.get();
    // A client that uses mTLS calls the IdP's alias of the token endpoint, when it has one (RFC 8705 §5).
    const tokenEndpoint = endpointUrl(
      metadata,
      'token_endpoint',
      config.clientAuth,
      config.allowInsecureHttp,
    );
    if (tokenEndpoint === undefined) {
      throw new PortcullisError('ERR_DISCOVERY_FAILED', 'the IdP advertises no "token_endpoint"', {
        status: 503,
      });
    }
    config.profile?.checkIdp(metadata);
    return tokenEndpoint === metadata.token_endpoint
      ? metadata
      : { ...metadata, token_endpoint: tokenEndpoint };
  }

  /** One token request (client credentials or token exchange), with a DPoP proof when `dpop` is on. */
  async function tokenRequest(
    send: (
      as: oauth.AuthorizationServer,
      auth: oauth.ClientAuth,
      handle: oauth.DPoPHandle | undefined,
    ) => Promise<Response>,
    processResponse: typeof processClientCredentialsResponse,
    grant: AgentGrant,
  ): Promise<IssuedToken> {
    const method = config.clientAuth.method;
    const as = await authorizationServer();
    const handle = await dpop?.handle();
    const attempt = async (): Promise<IssuedToken> => {
      const auth = await clientAuth();
      const issuedAt = Date.now();
      let response: Response;
      try {
        response = await send(as, auth, handle);
      } catch (err) {
        throw await tokenRequestError(err, tokenCall(as, client, grant, method));
      }
      return processResponse(as, client, response, issuedAt, dpop === undefined ? 'Bearer' : 'DPoP', method);
    };
    try {
      return await attempt();
    } catch (err) {
      // RFC 9449 §8: the IdP wants its nonce in the proof. oauth4webapi's handle has kept the
      // DPoP-Nonce of that answer; exactly one more request, whose answer stands.
      if (handle === undefined || !isUseDpopNonceError(err)) throw err;
      return attempt();
    }
  }

  const requestToken = () =>
    tokenRequest(
      (as, auth, handle) => clientCredentialsRequest(as, client, auth, config.params, http, handle),
      processClientCredentialsResponse,
      'client_credentials',
    );

  const exchangeToken = (subjectToken: string) =>
    tokenRequest(
      (as, auth, handle) => tokenExchangeRequest(as, client, auth, subjectToken, config.params, http, handle),
      processTokenExchangeResponse,
      'token_exchange',
    );

  const sourceFor = (sourceKey: string, grant: AgentGrant, fetchOnce: () => Promise<IssuedToken>) =>
    new TokenSource({
      key: sourceKey,
      grant,
      cache: guardCache(config.cache ?? memoryTokenCache(), {
        timeout: CACHE_TIMEOUT_MS,
        logger: config.logger,
        emit,
        key: sourceKey,
      }),
      fetchToken: () =>
        withBackoff(fetchOnce, {
          retries: config.retries,
          retryable: (err) => err instanceof IdpUnavailableError,
          // A 429 or 503 with Retry-After: wait as asked, or give up at once when that is too long.
          serverDelay: (err) =>
            err instanceof IdpUnavailableError && err.retryAfterFromIdp ? err.retryAfter * 1000 : undefined,
          onRetry: (attempt, delayMs) =>
            emit({ type: 'agent.token.retrying', key: sourceKey, attempt, delayMs: Math.round(delayMs) }),
        }),
      refreshRatio: config.refreshRatio,
      expiryMarginMs: config.expiryMargin * 1000,
      lockTtlMs: config.httpTimeout,
      emit,
    });

  const onBehalf = new Map<string, TokenSource>();
  function subjectSource(subjectToken: string): TokenSource {
    // The cache key holds a hash of the subject token, never the token itself.
    const subjectKey = `${key}:obo:${createHash('sha256').update(subjectToken).digest('base64url')}`;
    let found = onBehalf.get(subjectKey);
    if (found !== undefined) {
      onBehalf.delete(subjectKey); // most recently used goes last
    } else {
      found = sourceFor(subjectKey, 'token_exchange', () => exchangeToken(subjectToken));
      if (onBehalf.size >= MAX_SUBJECTS) {
        const [oldestKey, oldest] = onBehalf.entries().next().value as [string, TokenSource];
        onBehalf.delete(oldestKey);
        void oldest.close().catch(() => undefined);
      }
    }
    onBehalf.set(subjectKey, found);
    return found;
  }

  const source = sourceFor(key, 'client_credentials', requestToken);

  const callsWith = (from: TokenSource, sourceKey: string): OnBehalfOfAgent => ({
    async getToken() {
      const token = await from.get();
      const out: ServiceToken = {
        access_token: token.access_token,
        token_type: token.token_type.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
        expires_at: Math.floor(token.expires_at / 1000),
      };
      return token.scope === undefined ? out : { ...out, scope: token.scope };
    },
    attach: (instance) =>
      axiosWithCertificate(attachAxios(instance, from, emit, sourceKey, credentials), transport.agent),
    fetch: createServiceFetch(
      from,
      () => transport.fetch ?? config.fetch ?? globalThis.fetch,
      emit,
      sourceKey,
      credentials,
    ),
  });

  return {
    ...callsWith(source, key),
    invalidate: () => source.drop(),
    close: async () => {
      await Promise.all([source.close(), ...[...onBehalf.values()].map((s) => s.close())]);
      transport.agent?.destroy();
    },
    onBehalfOf(subjectToken: string): OnBehalfOfAgent {
      if (!config.tokenExchange) {
        throw new TypeError('onBehalfOf() needs serviceAgent({ tokenExchange: true })');
      }
      if (typeof subjectToken !== 'string' || subjectToken === '') {
        throw new TypeError("onBehalfOf() needs the subject token (the user's access token)");
      }
      const from = subjectSource(subjectToken);
      return callsWith(from, key);
    },
  };
}
