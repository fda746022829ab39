/**
 * Issuer metadata by discovery: OpenID Connect's `/.well-known/openid-configuration`, falling back
 * to RFC 8414's `/.well-known/oauth-authorization-server`. oauth4webapi validates the document
 * (issuer match, JSON shape); we add the https policy for every endpoint it names.
 *
 * The result is cached and fetched once at a time (single flight). When the IdP is down the error
 * is remembered only briefly, so that the app recovers on its own as soon as the IdP answers,
 * without hammering it meanwhile; a stale document keeps serving while a refresh fails.
 *
 * Each fetch is told the same way for every product: a `portcullis.idp.discovery` span (a child of
 * the step that needed the document, its HTTP calls below it) and an `idp.discovery.…` event.
 */
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../errors.js';
import { type HttpSettings, requestOptions } from './http.js';
import { type IdpCall, idpError, publicUrl } from './idp-error.js';
import { templateFitsIssuer } from './issuer-template.js';
import type { Emit } from './observability/emitter.js';
import type { IdpEvent } from './observability/events.js';
import { inSpan } from './observability/spans.js';
import { assertCallableUrl } from './url-policy.js';

export type IssuerMetadata = oauth.AuthorizationServer;

const ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'jwks_uri',
  'userinfo_endpoint',
  'end_session_endpoint',
  'introspection_endpoint',
  'revocation_endpoint',
  'pushed_authorization_request_endpoint',
] as const;

export interface DiscoveryOptions {
  readonly issuer: URL;
  readonly http: HttpSettings;
  /** Milliseconds a document is trusted before it is refetched. Default 1 hour. */
  readonly maxAge?: number;
  /** Milliseconds a failure is remembered before the next attempt. Default 1 second. */
  readonly retryAfter?: number;
  /** Told of each fetch of the document: `idp.discovery.fetched` or `idp.discovery.failed`. */
  readonly emit?: Emit<IdpEvent> | undefined;
}

export interface Discovery {
  /** The issuer's metadata; rejects with a 503 `PortcullisError` while the IdP cannot be read. */
  get(): Promise<IssuerMetadata>;
}

/** The discovery call as error messages describe it: the URL asked last, and the option behind it. */
function discoveryCall(issuer: URL, url: string | undefined): IdpCall {
  return {
    step: 'discovery',
    endpoint: 'discovery',
    url,
    source: `issuerBaseURL ("${publicUrl(issuer) ?? issuer.origin}")`,
    code: 'ERR_DISCOVERY_FAILED',
    status: 503,
  };
}

/**
 * The document's `issuer` must be the configured one, exactly (RFC 8414 §3.3; oauth4webapi checks it),
 * or a template that stands for it: Entra ID's `/organizations/v2.0` names `/{tenantid}/v2.0`
 * (issuer-template.ts). Such a document passed every other check before this one; it is returned.
 */
function templatedMetadata(err: unknown, issuer: URL): IssuerMetadata | undefined {
  const cause = (err as { cause?: { attribute?: unknown; body?: { issuer?: unknown } } }).cause;
  if (!(err instanceof oauth.OperationProcessingError) || cause?.attribute !== 'issuer') return undefined;
  const named = cause.body?.issuer;
  return typeof named === 'string' && templateFitsIssuer(named, issuer)
    ? (cause.body as IssuerMetadata)
    : undefined;
}

/** Say which issuer the IdP names, so that the fix (issuerBaseURL spelled as the IdP spells it) is obvious. */
function issuerMismatch(err: unknown, issuer: URL, url: string | undefined): PortcullisError | undefined {
  const cause = (err as { cause?: { attribute?: unknown; body?: { issuer?: unknown } } }).cause;
  if (!(err instanceof oauth.OperationProcessingError) || cause?.attribute !== 'issuer') return undefined;
  const named =
    typeof cause.body?.issuer === 'string' ? JSON.stringify(cause.body.issuer.slice(0, 200)) : '?';
  return new PortcullisError(
    'ERR_DISCOVERY_FAILED',
    `discovery failed: the "issuer" of ${publicUrl(url) ?? 'the discovery document'} is ${named}, not "${issuer.href}": ` +
      'if that is the IdP you mean, set issuerBaseURL to its issuer exactly (trailing slash and path included)',
    { status: 503, idpUrl: publicUrl(url), idpStatus: 200 },
  );
}

/** `asked`: the well-known URLs asked, in order (oauth4webapi builds them), for messages and events. */
async function fetchMetadata(issuer: URL, http: HttpSettings, asked: string[]): Promise<IssuerMetadata> {
  const base = requestOptions(http, issuer);
  const options: typeof base = {
    ...base,
    [oauth.customFetch]: (url, init) => {
      asked.push(url);
      return base[oauth.customFetch](url, init);
    },
  };
  let metadata: IssuerMetadata;
  try {
    let response = await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' });
    if (response.status === 404) {
      // RFC 8414 servers publish only the OAuth document.
      response = await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' });
    }
    metadata = await oauth.processDiscoveryResponse(issuer, response).catch((err: unknown) => {
      const templated = templatedMetadata(err, issuer);
      if (templated === undefined) throw err;
      return templated;
    });
  } catch (err) {
    // Two 404s: name the OpenID Connect document, the one a user expects to find.
    const url =
      asked.length === 2 && (err as { cause?: { status?: unknown } }).cause?.status === 404
        ? asked[0]
        : asked.at(-1);
    throw issuerMismatch(err, issuer, url) ?? (await idpError(err, discoveryCall(issuer, url)));
  }
  for (const field of ENDPOINTS) {
    if (metadata[field] !== undefined) assertCallableUrl(metadata[field], field, http.allowInsecureHttp);
  }
  return metadata;
}

export function createDiscovery({
  issuer,
  http,
  maxAge = 3_600_000,
  retryAfter = 1000,
  emit,
}: DiscoveryOptions): Discovery {
  let cached: { metadata: IssuerMetadata; at: number } | undefined;
  let failure: { error: PortcullisError; at: number } | undefined;
  let pending: Promise<IssuerMetadata> | undefined;

  function refresh(): Promise<IssuerMetadata> {
    if (pending !== undefined) return pending;
    const asked: string[] = [];
    const started = performance.now();
    const url = () => publicUrl(asked.at(-1)) ?? issuer.href;
    pending = inSpan('portcullis.idp.discovery', {}, () => fetchMetadata(issuer, http, asked))
      .then((metadata) => {
        cached = { metadata, at: Date.now() };
        failure = undefined;
        emit?.({ type: 'idp.discovery.fetched', url: url(), durationMs: performance.now() - started });
        return metadata;
      })
      .catch((err: unknown) => {
        const error =
          err instanceof PortcullisError
            ? err
            : new PortcullisError('ERR_DISCOVERY_FAILED', `discovery failed: ${String(err)}`, {
                status: 503,
              });
        failure = { error, at: Date.now() };
        const durationMs = performance.now() - started;
        emit?.({ type: 'idp.discovery.failed', url: url(), code: error.code, durationMs });
        throw error;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  return {
    get(): Promise<IssuerMetadata> {
      const now = Date.now();
      if (cached !== undefined) {
        if (now - cached.at > maxAge && pending === undefined) {
          // Refresh in the background; keep serving the document we have if it fails.
          refresh().catch(() => undefined);
        }
        return Promise.resolve(cached.metadata);
      }
      if (failure !== undefined && now - failure.at < retryAfter) return Promise.reject(failure.error);
      return refresh();
    },
  };
}
