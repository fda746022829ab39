/** Just enough cookie handling for the binding cookies, without depending on cookie-parser. */
import type { IncomingMessage } from 'node:http';

const VALUE = /^[A-Za-z0-9_-]{1,128}$/;

/** A cookie's value when it matches `pattern` (by default a binding cookie's random value). */
export function readCookie(req: IncomingMessage, name: string, pattern = VALUE): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return pattern.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * The names of the cookies whose name starts with `prefix`, in the order the browser sent them:
 * for cookies of one path, that is the order they were created in (RFC 6265 §5.4).
 */
export function cookieNamesStartingWith(req: IncomingMessage, prefix: string): string[] {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return [];
  const names: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    if (eq !== -1 && name.startsWith(prefix)) names.push(name);
  }
  return names;
}

export interface CookieOptions {
  path: string;
  /** Seconds; none: a session cookie, gone when the browser session ends. */
  maxAge?: number | undefined;
  secure: boolean;
  sameSite: 'None' | 'Lax' | 'Strict';
}

export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${o.path}`];
  if (o.maxAge !== undefined) parts.push(`Max-Age=${o.maxAge}`);
  parts.push('HttpOnly', `SameSite=${o.sameSite}`);
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Append a Set-Cookie header without clobbering those express-session (or the app) set. */
export function appendSetCookie(res: import('node:http').ServerResponse, cookie: string): void {
  const existing = res.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('set-cookie', [...list, cookie]);
}
