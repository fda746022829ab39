/**
 * Find the access token in a Node request (RFC 6750 §2): the `Authorization: Bearer` header by
 * default, the urlencoded body and the query string when enabled, and `Authorization: DPoP` (RFC
 * 9449 §7.1) when DPoP is on. A malformed header, another scheme, or a token in more than one
 * place is `invalid_request` (400): RFC 6750 §3.1 says so whether or not this API reads tokens from the
 * query or the body, so both are looked at (never parsed here: the body only when the app parsed it).
 *
 * `bearer()` finds the token first and checks its syntax only when the verdict cache does not know it:
 * a cached token is the same string that passed this check before (the cache key is its hash).
 */
import type { IncomingMessage } from 'node:http';
import { InvalidRequestError } from '../errors.js';
import { type BearerRefusal, refuse, shown } from '../protocol/bearer-refusal.js';

export interface TokenLocations {
  readonly allowQueryToken: boolean;
  readonly allowBodyToken: boolean;
  readonly realm: string;
  /** Accept the `DPoP` scheme as well as `Bearer`. */
  readonly dpop?: object | undefined;
}

/** The token and how it came: `dpop` only for `Authorization: DPoP`; query and body are `bearer`. */
export interface Credentials {
  readonly token: string;
  readonly scheme: 'bearer' | 'dpop';
  /** From the `Authorization` header, rather than a parameter (query or body). */
  readonly inHeader: boolean;
}

/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function badRequest(
  description: string,
  realm: string,
  refusal: Omit<BearerRefusal, 'reason'>,
): InvalidRequestError {
  return refuse(new InvalidRequestError(description, { realm }), { reason: 'request', ...refusal });
}

function fromHeader(header: string, where: TokenLocations): Credentials {
  // The common case without a copy: RFC 6750's own spelling of the scheme.
  if (header.startsWith('Bearer '))
    return { token: header.slice(7).trim(), scheme: 'bearer', inHeader: true };
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  if (scheme !== 'bearer' && (scheme !== 'dpop' || where.dpop === undefined)) {
    const which = where.dpop === undefined ? 'the Bearer scheme' : 'the Bearer or DPoP scheme';
    throw badRequest(`the Authorization header must use ${which}`, where.realm, {
      expected: where.dpop === undefined ? ['Bearer'] : ['Bearer', 'DPoP'],
      // A header without a space may be a bare token: what it "names" is never shown.
      received: space > 0 && space <= MAX_SCHEME ? shown(scheme) : '(no scheme)',
    });
  }
  return { token: space === -1 ? '' : header.slice(space + 1).trim(), scheme, inHeader: true };
}

/** Longest scheme shown in a refusal; a longer first word is no scheme anyone registered. */
const MAX_SCHEME = 20;

/** RFC 6750 §2.1: a token of b64token characters, or a 400 naming where it came from. */
export function checkTokenSyntax({ token, scheme, inHeader }: Credentials, realm: string): void {
  if (B64TOKEN.test(token)) return;
  if (inHeader) {
    throw badRequest('malformed Authorization header', realm, {
      hint: `the token after "${scheme === 'dpop' ? 'DPoP' : 'Bearer'} " is empty or has characters RFC 6750 §2.1 does not allow`,
    });
  }
  throw badRequest('malformed access_token parameter', realm, {
    hint: 'the access_token parameter is empty or has characters RFC 6750 §2.1 does not allow',
  });
}

const TWICE = { hint: 'a client sends its token in one place only (RFC 6750 §3.1)' };

function fromQuery(url: string | undefined, realm: string): string | undefined {
  const q = url?.indexOf('?') ?? -1;
  // Parsed only when the parameter may be there: most requests pay for one indexOf.
  if (url === undefined || q === -1 || !url.includes('access_token', q)) return undefined;
  const values = new URLSearchParams(url.slice(q + 1)).getAll('access_token');
  if (values.length > 1) {
    throw badRequest('more than one access_token parameter', realm, {
      received: ['query', 'query'],
      ...TWICE,
    });
  }
  return values[0];
}

function fromBody(
  req: IncomingMessage & { body?: unknown },
  type: string | undefined,
  realm: string,
): string | undefined {
  // §2.2: only a urlencoded body, already parsed by the app (express.urlencoded() or similar).
  if (type === undefined || !type.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    return undefined;
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const body = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>).access_token;
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw badRequest('more than one access_token parameter', realm, { received: ['body', 'body'], ...TWICE });
  }
  return value;
}

/** The request's access token, `undefined` when it carries none, or a thrown `invalid_request`. */
export function getToken(req: IncomingMessage, where: TokenLocations): string | undefined {
  return getCredentials(req, where)?.token;
}

/** The request's access token and its scheme, `undefined` when it carries none. */
export function getCredentials(req: IncomingMessage, where: TokenLocations): Credentials | undefined {
  const credentials = findCredentials(req, where);
  if (credentials !== undefined) checkTokenSyntax(credentials, where.realm);
  return credentials;
}

/**
 * The request's token and its scheme, its syntax unchecked (see {@link checkTokenSyntax}): the one
 * place, the scheme, the parameters this API reads. `undefined` when it carries none.
 */
export function findCredentials(req: IncomingMessage, where: TokenLocations): Credentials | undefined {
  const headers = req.headers; // read once: each read of a request's property is a slow one (auth-source.ts)
  const authorization = headers.authorization;
  const header = authorization === undefined ? undefined : fromHeader(authorization, where);
  const query = fromQuery(req.url, where.realm);
  const body = fromBody(req, headers['content-type'], where.realm);
  if (
    header !== undefined
      ? query !== undefined || body !== undefined
      : query !== undefined && body !== undefined
  ) {
    const places = [header && 'header', query !== undefined && 'query', body !== undefined && 'body'];
    throw badRequest('the token was sent in more than one place', where.realm, {
      received: places.filter((p): p is string => typeof p === 'string'),
      ...TWICE,
    });
  }
  if (header !== undefined) return header;
  // A token where this API does not read tokens is no token: 401 without an error code.
  const token =
    where.allowQueryToken && query !== undefined ? query : where.allowBodyToken ? body : undefined;
  return token === undefined ? undefined : { token, scheme: 'bearer', inHeader: false };
}
