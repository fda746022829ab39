/**
 * Find the access token in a Node request (RFC 6750 §2): the `Authorization: Bearer` header by
 * default, the urlencoded body and the query string when enabled, and `Authorization: DPoP` (RFC
 * 9449 §7.1) when DPoP is on. A malformed header, another scheme, or a token in more than one
 * place is `invalid_request` (400).
 */
import type { IncomingMessage } from 'node:http';
import { InvalidRequestError } from '../errors.js';

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
}

/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function fromHeader(header: string | undefined, where: TokenLocations): Credentials | undefined {
  if (header === undefined) return undefined;
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const realm = where.realm;
  if (scheme !== 'bearer' && (scheme !== 'dpop' || where.dpop === undefined)) {
    const which = where.dpop === undefined ? 'the Bearer scheme' : 'the Bearer or DPoP scheme';
    throw new InvalidRequestError(`the Authorization header must use ${which}`, { realm });
  }
  const token = space === -1 ? '' : header.slice(space + 1).trim();
  if (!B64TOKEN.test(token)) throw new InvalidRequestError('malformed Authorization header', { realm });
  return { token, scheme };
}

function fromQuery(url: string | undefined, realm: string): string | undefined {
  const q = url?.indexOf('?') ?? -1;
  if (url === undefined || q === -1) return undefined;
  const values = new URLSearchParams(url.slice(q + 1)).getAll('access_token');
  if (values.length > 1) throw new InvalidRequestError('more than one access_token parameter', { realm });
  return values[0];
}

function fromBody(req: IncomingMessage & { body?: unknown }, realm: string): string | undefined {
  // §2.2: only a urlencoded body, already parsed by the app (express.urlencoded() or similar).
  const type = req.headers['content-type'];
  if (type === undefined || !type.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    return undefined;
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const body = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>).access_token;
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new InvalidRequestError('more than one access_token parameter', { realm });
  return value;
}

/** The request's access token, `undefined` when it carries none, or a thrown `invalid_request`. */
export function getToken(req: IncomingMessage, where: TokenLocations): string | undefined {
  return getCredentials(req, where)?.token;
}

/** The request's access token and its scheme, `undefined` when it carries none. */
export function getCredentials(req: IncomingMessage, where: TokenLocations): Credentials | undefined {
  const header = fromHeader(req.headers.authorization, where);
  if (!where.allowQueryToken && !where.allowBodyToken) return header;
  const found = [
    header?.token,
    where.allowQueryToken ? fromQuery(req.url, where.realm) : undefined,
    where.allowBodyToken ? fromBody(req, where.realm) : undefined,
  ].filter((t): t is string => t !== undefined);
  if (found.length > 1) {
    throw new InvalidRequestError('the token was sent in more than one place', { realm: where.realm });
  }
  if (header !== undefined) return header;
  const token = found[0];
  if (token === undefined) return undefined;
  if (!B64TOKEN.test(token)) {
    throw new InvalidRequestError('malformed access_token parameter', { realm: where.realm });
  }
  return { token, scheme: 'bearer' };
}
