/**
 * The one event scheme of portcullis (API.md §7): what `onEvent`, the `node:diagnostics_channel`
 * channels and the OpenTelemetry metrics are told, for all three products.
 *
 * Names are `<product>.<subject>.<what happened>` (`agent.token.fetched`); events about the IdP that
 * any product may see (discovery, JWKS, introspection) are `idp.…` and go out on the channel of the
 * product that made the call. Names, reason codes and fields are stable: a new field may be added,
 * none renamed or removed without a major version.
 *
 * No event carries a token, secret, authorization code or PKCE verifier: agent events name the
 * token by its cache key (a hash), refusals carry claim and header values (never the token), and
 * errors are named by their stable `code`.
 */
import type { PortcullisError, PortcullisErrorCode } from '../../errors.js';
import type { BearerRefusal, BearerRefusalReason } from '../bearer-refusal.js';
import type { SigninRefusal } from '../oidc-refusal.js';

/** The products, as channels and metrics name them. */
export type Product = 'agent' | 'bearer' | 'signin';

/** How an agent got its token: RFC 6749 §4.4 client credentials, or RFC 8693 token exchange. */
export type AgentGrant = 'client_credentials' | 'token_exchange';

// ---------------------------------------------------------------------------------------------
// serviceAgent()

export interface AgentEventBase {
  /** The hashed cache key of the agent's token (issuer, client, audience, resource, scope). */
  readonly key: string;
}

export type AgentEvent =
  /** A token came from the token endpoint; `agent.token.refreshed` when it replaced one still in use. */
  | (AgentEventBase & {
      readonly type: 'agent.token.fetched' | 'agent.token.refreshed';
      readonly grant: AgentGrant;
      /** Seconds the new token is valid for. */
      readonly expiresIn: number;
      /** The whole request, retries included. */
      readonly durationMs: number;
    })
  /** A token request failed for good (after its retries); `background` when a valid token remains. */
  | (AgentEventBase & {
      readonly type: 'agent.token.failed';
      readonly grant: AgentGrant;
      readonly background: boolean;
      readonly code: PortcullisErrorCode;
      /** The error itself: a portcullis error, whose message names checks, never values. */
      readonly error: PortcullisError;
      readonly durationMs: number;
    })
  /** A token request is tried again after a network error, a 5xx or a 429. */
  | (AgentEventBase & {
      readonly type: 'agent.token.retrying';
      readonly attempt: number;
      readonly delayMs: number;
    })
  /** The token came from the agent's memory or from the shared cache. */
  | (AgentEventBase & { readonly type: 'agent.cache.hit'; readonly source: 'memory' | 'cache' })
  /** No usable token was cached: one is being fetched (or awaited from another process). */
  | (AgentEventBase & { readonly type: 'agent.cache.missed' })
  /** The shared cache failed or was slow; the in-process fallback is used meanwhile. */
  | (AgentEventBase & {
      readonly type: 'agent.cache.failed';
      readonly operation: string;
      readonly message: string;
    })
  /**
   * A call was sent again, once: after a 401 `invalid_token` with a new token (the old one dropped),
   * or after a DPoP `use_dpop_nonce` challenge with the same token and a proof with the new nonce.
   */
  | (AgentEventBase & {
      readonly type: 'agent.call.retried';
      readonly status: number;
      readonly reason: 'invalid_token' | 'use_dpop_nonce';
    })
  | IdpEvent;

// ---------------------------------------------------------------------------------------------
// bearer()

/** Fields that every bearer() and auth() event may carry once several IdPs share a product. */
export interface IssuerField {
  /** The issuer the event concerns, when the product knows several. */
  readonly issuer?: string | undefined;
}

export type BearerEvent =
  /** A token was verified and the request let through. */
  | (IssuerField & {
      readonly type: 'bearer.accepted';
      readonly scheme: 'Bearer' | 'DPoP';
      /** Whether the verdict came from a cache of verified tokens rather than a fresh check. */
      readonly cached?: boolean | undefined;
      readonly durationMs: number;
    })
  /**
   * A token (or its absence) was refused: the stable `reason`, what the API `expected` and what the
   * request carried (`received`), as `bearer()` logs them. The client was told only the RFC 6750 code.
   */
  | (IssuerField &
      BearerRefusal & {
        readonly type: 'bearer.rejected';
        readonly reason: BearerRefusalReason;
        readonly status: number;
        /** The RFC 6750 `error` code sent (`invalid_token`, `invalid_request`…); none for a missing token. */
        readonly error?: string | undefined;
        readonly durationMs: number;
      })
  /** A token could not be checked because of the IdP (JWKS or introspection unreachable): a 5xx. */
  | (IssuerField & {
      readonly type: 'bearer.failed';
      readonly code: PortcullisErrorCode;
      readonly status: number;
      readonly durationMs: number;
    })
  | IdpEvent;

// ---------------------------------------------------------------------------------------------
// auth()

/** The IdP a sign-in event concerns, once a provider is known: its issuer, and its id. */
export interface SigninProviderFields extends IssuerField {
  /** The provider's id: `default` for a single IdP, else the key of `providers` or `resolveProvider`'s `id`. */
  readonly provider?: string | undefined;
}

/**
 * A refused callback or back-channel logout token: the stable `reason`, and for a claim check what
 * was `expected` and what the token carried (`received`), never the token; for a `nonce`, `state` or
 * hash check, the check only, never its values.
 */
export interface SigninRefusalFields extends SigninRefusal {
  /** The portcullis error; none for another error (the app's session store failing, a bug). */
  readonly code?: PortcullisErrorCode | undefined;
}

export type SigninEvent =
  /** A login was started: the browser is sent to the IdP. */
  | (SigninProviderFields & {
      readonly type: 'signin.login.started';
      /** `prompt=none`: a silent login, which the IdP answers without showing a page. */
      readonly silent: boolean;
    })
  /** The callback succeeded: a session holds the user. */
  | (SigninProviderFields & {
      readonly type: 'signin.login.completed';
      /** The user's `sub` claim: an identifier, not a credential. Never a metric or span attribute. */
      readonly sub: string;
      /** From the login's start to the session, when the start is known. */
      readonly durationMs?: number | undefined;
    })
  /**
   * A silent login (`prompt=none`) the IdP could not finish without the user (`error`:
   * `login_required`, `consent_required`…): back to the page, signed out, as designed; no failure.
   */
  | (SigninProviderFields & { readonly type: 'signin.login.declined'; readonly error: string })
  /**
   * The callback failed: `code` is the portcullis error, `reason` the check that failed (with
   * `expected` and `received` for a claim), `error` the IdP's (`access_denied`, `invalid_grant`) if any.
   */
  | (SigninProviderFields &
      SigninRefusalFields & {
        readonly type: 'signin.login.failed';
        readonly status: number;
        readonly error?: string | undefined;
        /** The callback's own handling, from its arrival to the refusal. */
        readonly durationMs: number;
      })
  /** Tokens refreshed with the refresh token; `rotated` when the IdP issued a new refresh token. */
  | (SigninProviderFields & {
      readonly type: 'signin.refresh.completed';
      readonly rotated: boolean;
      readonly durationMs: number;
    })
  | (SigninProviderFields & {
      readonly type: 'signin.refresh.failed';
      readonly code: PortcullisErrorCode;
      readonly error?: string | undefined;
      readonly durationMs: number;
    })
  /** The user signed out; `idpLogout` when they were sent on to the IdP's end_session_endpoint. */
  | (SigninProviderFields & { readonly type: 'signin.logout.completed'; readonly idpLogout: boolean })
  /** An OIDC back-channel logout token was accepted; `sessions` is how many sessions it ended. */
  | (SigninProviderFields & {
      readonly type: 'signin.backchannel_logout.completed';
      readonly sessions: number;
    })
  /** A back-channel logout token was refused: the failed check, as for a refused callback. */
  | (SigninProviderFields & SigninRefusalFields & { readonly type: 'signin.backchannel_logout.rejected' })
  | IdpEvent;

// ---------------------------------------------------------------------------------------------
// The IdP, for every product

/** Why the JWKS was fetched: the first use, an unknown `kid` (after the cooldown), or its age. */
export type JwksFetchCause = 'initial' | 'unknown_kid' | 'expired';

/** The grants of auth()'s token requests (the agent's are `agent.token.…` events). */
export type SigninGrant = 'authorization_code' | 'refresh_token';

export type IdpEvent =
  | { readonly type: 'idp.discovery.fetched'; readonly url: string; readonly durationMs: number }
  | {
      readonly type: 'idp.jwks.fetched';
      readonly url: string;
      readonly cause: JwksFetchCause;
      readonly keys: number;
      readonly durationMs: number;
    }
  | {
      readonly type: 'idp.discovery.failed' | 'idp.jwks.failed';
      readonly url: string;
      readonly code: PortcullisErrorCode;
      readonly durationMs: number;
    }
  /** RFC 7662 introspection of an opaque token; `cached` when the answer came from the cache. */
  | {
      readonly type: 'idp.introspection.completed';
      readonly url: string;
      readonly active: boolean;
      readonly cached: boolean;
      readonly durationMs: number;
    }
  | {
      readonly type: 'idp.introspection.failed';
      readonly url: string;
      readonly code: PortcullisErrorCode;
      readonly durationMs: number;
    }
  /**
   * A token request of auth(): the code exchange or a refresh. `completed` when the token endpoint
   * answered with tokens (an ID token that then fails a check is the login's `reason`), `failed`
   * when it refused (`error`: `invalid_grant`…), could not be reached or answered junk.
   */
  | {
      readonly type: 'idp.token.completed';
      readonly url: string;
      readonly grant: SigninGrant;
      readonly durationMs: number;
    }
  | {
      readonly type: 'idp.token.failed';
      readonly url: string;
      readonly grant: SigninGrant;
      readonly code: PortcullisErrorCode;
      /** The IdP's OAuth error code, when it sent one. */
      readonly error?: string | undefined;
      /** The HTTP status the IdP answered, when it answered. */
      readonly status?: number | undefined;
      readonly durationMs: number;
    };

/** Any portcullis event. */
export type PortcullisEvent = AgentEvent | BearerEvent | SigninEvent;

/** Every event name. */
export type PortcullisEventType = PortcullisEvent['type'];

/** The events of one product, as its `onEvent` and channel receive them. */
export type EventOf<P extends Product> = P extends 'agent'
  ? AgentEvent
  : P extends 'bearer'
    ? BearerEvent
    : SigninEvent;

/** The event (or events) whose `type` can be `T`, members that share a type included. */
export type EventNamed<T extends PortcullisEventType, E = PortcullisEvent> = E extends {
  readonly type: infer U;
}
  ? T extends U
    ? E
    : never
  : never;
