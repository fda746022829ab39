/**
 * Every error portcullis throws or passes to `next()` is a {@link PortcullisError} with a stable
 * `code` and an HTTP `status`. Match on `err.code` rather than `instanceof`: a code survives two
 * copies of the package in one app (a nested `node_modules`), where `instanceof` does not.
 *
 * Messages name the failed check, never the value: no token, code, verifier or secret ever
 * appears in a message, in `cause`, or in `JSON.stringify(err)`.
 */

/** The stable codes. `switch (err.code)` over this union is exhaustive. */
export type PortcullisErrorCode =
  // shared
  | 'ERR_IDP_UNAVAILABLE'
  | 'ERR_DISCOVERY_FAILED'
  | 'ERR_OAUTH_RESPONSE'
  | 'ERR_BAD_REQUEST'
  | 'ERR_BODY_TOO_LARGE'
  // sign-in
  | 'ERR_SESSION_MISSING'
  | 'ERR_SESSION_STORE'
  | 'ERR_STATE_MISSING'
  | 'ERR_STATE_MISMATCH'
  | 'ERR_ISSUER_MISMATCH'
  | 'ERR_UNKNOWN_PROVIDER'
  | 'ERR_AUTHORIZATION_RESPONSE'
  | 'ERR_CALLBACK_INVALID'
  | 'ERR_JARM_INVALID'
  | 'ERR_JARM_MISSING'
  | 'ERR_IDP_INCOMPATIBLE'
  | 'ERR_ID_TOKEN_INVALID'
  | 'ERR_LOGIN_REFUSED'
  | 'ERR_NOT_AUTHENTICATED'
  | 'ERR_NO_REFRESH_TOKEN'
  | 'ERR_REFRESH_FAILED'
  | 'ERR_USERINFO_FAILED'
  // API protection (RFC 6750)
  | 'ERR_INVALID_REQUEST'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_INSUFFICIENT_SCOPE'
  // DPoP at the API (RFC 9449 §7): lib/protocol/dpop/errors.ts
  | 'ERR_INVALID_DPOP_PROOF'
  | 'ERR_USE_DPOP_NONCE'
  // step-up (RFC 9470)
  | 'ERR_INSUFFICIENT_USER_AUTHENTICATION'
  | 'ERR_STEP_UP_FAILED'
  // service agent
  | 'ERR_TOKEN_REQUEST_FAILED'
  // DPoP clients, sign-in and service agent (RFC 9449)
  | 'ERR_DPOP_NOT_BOUND'
  | 'ERR_DPOP_PROOF_FAILED';

export interface PortcullisErrorOptions {
  /** HTTP status a middleware answers with. */
  status?: number;
  /** The underlying error. Kept non-enumerable so that serialising the error cannot leak it. */
  cause?: unknown;
  /** The IdP URL that was called, without its query: never a secret. */
  idpUrl?: string | undefined;
  /** The HTTP status the IdP answered. */
  idpStatus?: number | undefined;
}

/** What `JSON.stringify(err)` shows: never the cause, never a secret. */
export interface PortcullisErrorJSON {
  name: string;
  code: PortcullisErrorCode;
  status: number;
  message: string;
  idpUrl?: string;
  idpStatus?: number;
}

/** Base class of every portcullis error. */
export class PortcullisError extends Error {
  readonly code: PortcullisErrorCode;
  readonly status: number;
  /** Express's default error handler reads `statusCode` as well as `status`. */
  get statusCode(): number {
    return this.status;
  }
  /** Lets Express's default handler show the message: it is written for users and holds no secret. */
  readonly expose: boolean;
  /** For an error about a call to the IdP: the URL called (no query string), for logs and alerts. */
  readonly idpUrl: string | undefined;
  /** For an error about a call to the IdP: the HTTP status it answered, when it answered. */
  readonly idpStatus: number | undefined;

  constructor(code: PortcullisErrorCode, message: string, options: PortcullisErrorOptions = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.expose = this.status < 500;
    this.idpUrl = options.idpUrl;
    this.idpStatus = options.idpStatus;
    if (options.cause !== undefined) {
      // Non-enumerable: `JSON.stringify(err)` and most loggers skip it, while debuggers still see it.
      Object.defineProperty(this, 'cause', {
        value: options.cause,
        enumerable: false,
        writable: true,
        configurable: true,
      });
    }
  }

  toJSON(): PortcullisErrorJSON {
    const json: PortcullisErrorJSON = {
      name: this.name,
      code: this.code,
      status: this.status,
      message: this.message,
    };
    if (this.idpUrl !== undefined) json.idpUrl = this.idpUrl;
    if (this.idpStatus !== undefined) json.idpStatus = this.idpStatus;
    return json;
  }
}

/**
 * The IdP answered an OAuth error (RFC 6749 §5.2): `error` and `error_description` are the IdP's own
 * words, carried for logs and error pages.
 */
export class OAuthResponseError extends PortcullisError {
  readonly error: string;
  readonly error_description: string | undefined;

  constructor(
    code: PortcullisErrorCode,
    message: string,
    details: { error: string; error_description?: string | undefined },
    options: PortcullisErrorOptions = {},
  ) {
    super(code, message, options);
    this.error = details.error;
    this.error_description = details.error_description;
  }

  override toJSON(): ReturnType<PortcullisError['toJSON']> & { error: string; error_description?: string } {
    const json: ReturnType<PortcullisError['toJSON']> & { error: string; error_description?: string } = {
      ...super.toJSON(),
      error: this.error,
    };
    if (this.error_description !== undefined) json.error_description = this.error_description;
    return json;
  }
}

/** The IdP could not be reached or answered 5xx: retry later (503 with `Retry-After`). */
export class IdpUnavailableError extends PortcullisError {
  /** Seconds after which a retry makes sense: the IdP's `Retry-After` when it sent one, else 5. */
  readonly retryAfter: number;
  /** True when `retryAfter` is the IdP's own (a 429 or 503 with `Retry-After`), not our default. */
  readonly retryAfterFromIdp: boolean;
  constructor(message: string, options: PortcullisErrorOptions & { retryAfter?: number | undefined } = {}) {
    super('ERR_IDP_UNAVAILABLE', message, { status: 503, ...options });
    this.retryAfter = options.retryAfter ?? 5;
    this.retryAfterFromIdp = options.retryAfter !== undefined;
  }
}

/**
 * DPoP was asked for but the IdP issued a Bearer token (it does not support DPoP, or ignored the
 * proof): refused, since the caller asked for sender-constrained tokens. 502: the IdP's answer is
 * unusable. Turn `dpop` off for an IdP without DPoP.
 */
export class DpopNotBoundError extends PortcullisError {
  constructor(message: string) {
    super('ERR_DPOP_NOT_BOUND', message, { status: 502 });
  }
}

/** Quote a value for an RFC 7235 auth-param: only visible ASCII, with `"` and `\` escaped. */
function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * An RFC 6750 §3 error: it carries its own status, `error` code and ready-built `WWW-Authenticate`
 * header, so that the middleware only writes what the error holds.
 */
export abstract class BearerChallengeError extends PortcullisError {
  /** The RFC 6750 error code, or `undefined` for a request that carried no token (§3.1). */
  abstract readonly error:
    | 'invalid_request'
    | 'invalid_token'
    | 'insufficient_scope'
    | 'insufficient_user_authentication'
    | 'invalid_dpop_proof'
    | 'use_dpop_nonce'
    | undefined;
  readonly error_description: string;
  readonly realm: string | undefined;
  readonly scope: string | undefined;

  constructor(
    code: PortcullisErrorCode,
    description: string,
    options: PortcullisErrorOptions & { realm?: string | undefined; scope?: string | undefined } = {},
  ) {
    super(code, description, options);
    this.error_description = description;
    this.realm = options.realm;
    this.scope = options.scope;
  }

  /** The `WWW-Authenticate` header value for this error. */
  get wwwAuthenticate(): string {
    const params = this.authParams();
    return params.length > 0 ? `Bearer ${params.join(', ')}` : 'Bearer';
  }

  /** The challenge's auth-params, quoted (`realm`, `error`, ...): the same for Bearer and DPoP. */
  authParams(): string[] {
    const params: string[] = [];
    if (this.realm !== undefined) params.push(`realm=${quote(this.realm)}`);
    if (this.error !== undefined) {
      params.push(`error=${quote(this.error)}`);
      params.push(`error_description=${quote(this.error_description)}`);
    }
    if (this.scope !== undefined) params.push(`scope=${quote(this.scope)}`);
    params.push(...this.extraParams());
    return params;
  }

  /** Further auth-params of the challenge (RFC 9470's `acr_values` and `max_age`). */
  protected extraParams(): string[] {
    return [];
  }

  /** The JSON body: `{ error, error_description }`, or `{}`-like for a missing token. */
  get body(): { error?: string; error_description?: string } {
    return this.error === undefined
      ? { error_description: this.error_description }
      : { error: this.error, error_description: this.error_description };
  }
}

/** No token in the request (RFC 6750 §3.1: the challenge carries no `error`). */
export class UnauthorizedError extends BearerChallengeError {
  readonly error = undefined;
  constructor(description = 'authentication required', options: { realm?: string | undefined } = {}) {
    super('ERR_INVALID_TOKEN', description, { status: 401, ...options });
  }
}

/** 400 `invalid_request`: a malformed header, a non-Bearer scheme or a token in two places. */
export class InvalidRequestError extends BearerChallengeError {
  readonly error = 'invalid_request' as const;
  constructor(description: string, options: { realm?: string | undefined } = {}) {
    super('ERR_INVALID_REQUEST', description, { status: 400, ...options });
  }
}

/** 401 `invalid_token`: expired, revoked, malformed or wrongly signed. */
export class InvalidTokenError extends BearerChallengeError {
  readonly error = 'invalid_token' as const;
  constructor(description: string, options: { realm?: string | undefined; cause?: unknown } = {}) {
    super('ERR_INVALID_TOKEN', description, { status: 401, ...options });
  }
}

/** 403 `insufficient_scope`, with `scope` listing what the route needs. */
export class InsufficientScopeError extends BearerChallengeError {
  readonly error = 'insufficient_scope' as const;
  constructor(description: string, options: { realm?: string | undefined; scope?: string | undefined } = {}) {
    super('ERR_INSUFFICIENT_SCOPE', description, { status: 403, ...options });
  }
}

/**
 * RFC 9470 step-up: 401 `insufficient_user_authentication`, with the `acr_values` and/or `max_age`
 * the resource needs, so that the client can send the user back to the IdP to authenticate again.
 */
export class InsufficientUserAuthenticationError extends BearerChallengeError {
  readonly error = 'insufficient_user_authentication' as const;
  readonly acrValues: readonly string[] | undefined;
  readonly maxAge: number | undefined;
  constructor(
    description: string,
    options: {
      realm?: string | undefined;
      acrValues?: readonly string[] | undefined;
      maxAge?: number | undefined;
    } = {},
  ) {
    super('ERR_INSUFFICIENT_USER_AUTHENTICATION', description, { status: 401, realm: options.realm });
    this.acrValues = options.acrValues;
    this.maxAge = options.maxAge;
  }

  protected override extraParams(): string[] {
    const params: string[] = [];
    if (this.acrValues !== undefined) params.push(`acr_values=${quote(this.acrValues.join(' '))}`);
    if (this.maxAge !== undefined) params.push(`max_age=${this.maxAge}`);
    return params;
  }
}
