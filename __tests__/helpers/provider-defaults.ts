/**
 * Settings every test OpenID Provider shares. oidc-provider refuses to fetch from special-use
 * addresses (its SSRF guard, an undici dispatcher); the clients' key sets of the tests are on loopback,
 * so the guard is dropped for test IdPs only. Errors are rendered as JSON, for assertions.
 */
import type { Configuration } from 'oidc-provider';

export const testProviderDefaults = {
  fetch: (url: string | URL | Request, options?: RequestInit) => {
    const { dispatcher: _ssrfGuard, ...rest } = (options ?? {}) as RequestInit & { dispatcher?: unknown };
    return globalThis.fetch(url, rest);
  },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
} as const satisfies Partial<Configuration>;
