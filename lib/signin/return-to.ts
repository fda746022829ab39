/**
 * `returnTo` is attacker-controlled (`/login?returnTo=...`), so only same-origin relative paths are
 * accepted: no scheme, no `//host`, no `/\host`, no backslash or control character anywhere, and
 * none of those hidden behind percent-encoding. Anything else falls back to the default.
 */

const MAX_LENGTH = 2048;

function looksUnsafe(value: string): boolean {
  return (
    !value.startsWith('/') ||
    value.startsWith('//') ||
    value.includes('\\') ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
    /[\u0000-\u001f\u007f]/.test(value)
  );
}

/** The path to send the user to, or `undefined` when `value` is not a safe same-origin path. */
export function safeReturnTo(value: unknown, baseURL: URL): string | undefined {
  if (typeof value !== 'string' || value === '' || value.length > MAX_LENGTH) return undefined;
  if (looksUnsafe(value)) return undefined;
  // Percent-encoded variants (`/%2F%2Fevil`, `/%5Cevil`): decode repeatedly and check again.
  let decoded = value;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return undefined;
    }
    if (next === decoded) break;
    if (looksUnsafe(next)) return undefined;
    decoded = next;
  }
  const resolved = new URL(value, baseURL.origin);
  if (resolved.origin !== baseURL.origin) return undefined;
  const path = resolved.pathname + resolved.search + resolved.hash;
  // Dot segments can collapse into a protocol-relative URL: "/.//evil.example" resolves to "//evil.example".
  return looksUnsafe(path) ? undefined : path;
}
