/**
 * Split and decode a compact JWS (RFC 7515 §7.1) without trusting any of it yet. Strict on shape:
 * exactly three base64url parts, JSON objects for header and payload, a bounded length, so that
 * garbage is refused cheaply and never reaches a JSON parser or OpenSSL in an odd form.
 */
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { InvalidTokenError } from '../errors.js';
import { refuse } from './bearer-refusal.js';

export interface DecodedJws {
  readonly header: ProtectedHeaderParameters;
  readonly payload: JWTPayload;
  /** `base64url(header) + "." + base64url(payload)`, the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * True when `token` has the shape of a compact JWS (exactly two dots), so that it goes to JWT
 * verification (and its errors) rather than to introspection as an opaque token.
 */
export function looksLikeJws(token: string): boolean {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  return first !== -1 && second !== -1 && token.indexOf('.', second + 1) === -1;
}

function malformed(description: string, realm: string | undefined): InvalidTokenError {
  return refuse(new InvalidTokenError(description, { realm }), { reason: 'malformed' });
}

function parseObject(part: string, what: string, realm: string | undefined): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw malformed(`the token's ${what} is not valid JSON`, realm);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`the token's ${what} is not a JSON object`, realm);
  }
  return value as Record<string, unknown>;
}

/** Decode `token`, or throw `invalid_token` naming what is wrong with its shape. */
export function decodeJws(token: string, realm: string | undefined): DecodedJws {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 1 || second < 0 || token.indexOf('.', second + 1) !== -1) {
    throw malformed('the token is not a JWT (it must have three parts)', realm);
  }
  const h = token.slice(0, first);
  const p = token.slice(first + 1, second);
  const s = token.slice(second + 1);
  if (s === '') throw malformed('the token has no signature', realm);
  if (!BASE64URL.test(h) || !BASE64URL.test(p) || !BASE64URL.test(s)) {
    throw malformed('the token is not base64url encoded', realm);
  }
  const header = parseObject(h, 'header', realm) as unknown as ProtectedHeaderParameters;
  const payload = parseObject(p, 'payload', realm) as JWTPayload;
  return { header, payload, signingInput: token.slice(0, second), signature: Buffer.from(s, 'base64url') };
}

/**
 * The payload of a compact JWS that the app received straight from the IdP's token endpoint and that
 * was checked there and then (a signed-in user's access token, an ID token kept in a session): decoded,
 * not verified again. `undefined` for an opaque or encrypted token, or a payload that is not a JSON object.
 */
export function unverifiedPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
