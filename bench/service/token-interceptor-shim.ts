/**
 * axios-oauth-client v1's interceptor needs `axios-token-interceptor` (its README installs it next
 * to it), which this repository does not depend on. When it is installed the bench uses it; when
 * not, this shim stands in. It does what axios-token-interceptor 0.2.0's `tokenCache` and
 * interceptor do: one token request at a time (its `lock`), the token kept until receipt +
 * `getMaxAge(token)` (axios-oauth-client passes `expires_in * 1000`, no margin), then
 * `Authorization: headerFormatter(token)` on each request.
 */

type Token = { access_token: string; expires_in: number };
type Options = { getMaxAge: (token: Token) => number };
type InterceptorOptions = { getToken: () => Promise<Token>; headerFormatter: (token: Token) => string };
type Config = { headers: Record<string, unknown> };

function tokenCache(getToken: () => Promise<Token>, options: Options): () => Promise<Token> {
  let cached: Token | null = null;
  let expiration = 0;
  let queue: Promise<unknown> = Promise.resolve();
  return () => {
    if (cached !== null && expiration - Date.now() > 0) return Promise.resolve(cached);
    // The lock: requests wait their turn, and the first to get a token serves those behind it.
    const run = queue.then(async () => {
      if (cached !== null && expiration - Date.now() > 0) return cached;
      const token = await getToken();
      cached = token;
      expiration = Date.now() + options.getMaxAge(token);
      return token;
    });
    queue = run.catch(() => undefined);
    return run;
  };
}

function tokenProvider(options: InterceptorOptions): (config: Config) => Promise<Config> {
  return async (config) => {
    config.headers.Authorization = options.headerFormatter(await options.getToken());
    return config;
  };
}
tokenProvider.tokenCache = tokenCache;

/** The real package when installed, else the shim. */
export async function loadTokenProvider(): Promise<{ provider: unknown; real: boolean }> {
  const name = 'axios-token-interceptor';
  try {
    const mod = (await import(name)) as { default?: unknown };
    return { provider: mod.default ?? mod, real: true };
  } catch {
    return { provider: tokenProvider, real: false };
  }
}
