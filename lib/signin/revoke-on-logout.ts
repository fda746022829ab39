/**
 * `revokeOnLogout`: the session's tokens revoked at the IdP when the user logs out (RFC 7009), so that
 * a copy of them (a log, a leaked backup of the session store) stops working too. As named steps:
 *
 *   revocationEndpoint  the provider's `revocation_endpoint`; an IdP without one is warned about once
 *                       per provider, and nothing is sent
 *   revokeEach          the refresh token and the access token, each with its `token_type_hint`,
 *                       authenticated as the client, side by side
 *   withinHttpTimeout   the whole is bounded by `httpTimeout`: a slow IdP is left behind (its calls
 *                       abort on their own), and the logout goes on
 *   warn                each failure (unreachable, 5xx, refused, too slow) is one warning through the
 *                       logger, naming the provider, the token type and the IdP's answer; never a token
 *
 * The logout never waits longer than that and never fails for it: the session is destroyed whatever
 * the IdP says. Back-channel logout revokes nothing: the IdP ended that session itself, and Back-Channel
 * Logout 1.0 §2.7 leaves revoking its refresh tokens to the IdP.
 */
import { PortcullisError } from '../errors.js';
import type { ProviderRuntime, SigninRuntime } from './runtime.js';
import type { StoredTokens } from './token-set.js';

type Hint = 'refresh_token' | 'access_token';

interface Failure {
  readonly token: Hint | 'both';
  readonly error: unknown;
}

/** Providers whose IdP has no revocation_endpoint, warned about already. */
const warnedNoEndpoint = new WeakSet<ProviderRuntime>();

async function revokeEach(
  rt: SigninRuntime,
  provider: ProviderRuntime,
  tokens: StoredTokens,
): Promise<Failure[]> {
  let endpoint: string | undefined;
  try {
    endpoint = (await provider.client.metadata()).revocation_endpoint;
  } catch (error) {
    return [{ token: 'both', error }];
  }
  if (endpoint === undefined) {
    if (!warnedNoEndpoint.has(provider)) {
      warnedNoEndpoint.add(provider);
      rt.config.logger.warn(
        { provider: provider.config.id, option: 'revokeOnLogout' },
        `auth(): "revokeOnLogout" is on, but the IdP ${provider.config.issuer.href} advertises no revocation_endpoint, so tokens are not revoked at logout: enable token revocation (RFC 7009) at the IdP, or turn "revokeOnLogout" off`,
      );
    }
    return [];
  }
  const wanted: Array<[Hint, string | undefined]> = [
    ['refresh_token', tokens.refresh_token],
    ['access_token', tokens.access_token],
  ];
  const failures = await Promise.all(
    wanted.map(async ([token, value]): Promise<Failure | undefined> => {
      if (value === undefined) return undefined;
      try {
        await provider.client.revoke(value, token);
        return undefined;
      } catch (error) {
        return { token, error };
      }
    }),
  );
  return failures.filter((failure) => failure !== undefined);
}

function warn(rt: SigninRuntime, provider: ProviderRuntime, { token, error }: Failure): void {
  const what = token === 'both' ? 'the tokens were' : `the ${token.replace('_', ' ')} was`;
  const known = error instanceof PortcullisError;
  rt.config.logger.warn(
    {
      provider: provider.config.id,
      token,
      code: known ? error.code : undefined,
      idpUrl: known ? error.idpUrl : undefined,
      idpStatus: known ? error.idpStatus : undefined,
    },
    `auth(): the user was logged out, but ${what} not revoked at the IdP: ${known ? error.message : 'an unexpected error'}`,
  );
}

/** Revoke the session's tokens; resolves within `httpTimeout`, never rejects. */
export async function revokeOnLogout(
  rt: SigninRuntime,
  provider: ProviderRuntime,
  tokens: StoredTokens,
): Promise<void> {
  if (tokens.refresh_token === undefined && tokens.access_token === undefined) return;
  const timeout = rt.config.http.timeout;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeout);
    timer.unref();
  });
  const outcome = await Promise.race([revokeEach(rt, provider, tokens), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    rt.config.logger.warn(
      { provider: provider.config.id, token: 'both', timeoutMs: timeout },
      `auth(): the user was logged out, but the IdP did not confirm revoking the tokens within httpTimeout (${timeout} ms); they stay valid until they expire unless the IdP revoked them anyway`,
    );
    return;
  }
  for (const failure of outcome) warn(rt, provider, failure);
}
