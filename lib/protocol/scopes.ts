/**
 * Scopes granted by a token: `scope` (RFC 8693 §4.2, space separated), `scp` (a list, or a string
 * as some IdPs send it) and, when enabled, `permissions` (a list, where some IdPs put RBAC grants).
 */

function words(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

/** The de-duplicated scopes of a JWT payload or introspection response. */
export function scopesOf(payload: Record<string, unknown>, { permissions = false } = {}): string[] {
  const all = [...words(payload.scope), ...words(payload.scp)];
  if (permissions) all.push(...words(payload.permissions));
  return [...new Set(all)];
}

/** Parse a `scope` string (for example the one stored with a signed-in user's access token). */
export function parseScope(scope: string | undefined): string[] {
  return words(scope);
}

/** The required scopes missing from `granted` (empty when all are there). */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !granted.includes(scope));
}

/** True when `granted` holds at least one of `wanted`. */
export function hasAnyScope(granted: readonly string[], wanted: readonly string[]): boolean {
  return wanted.some((scope) => granted.includes(scope));
}

/** RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`. */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(value);
}
