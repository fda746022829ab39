/**
 * JARM at the callback. A `response` parameter is the whole authorization response as a JWT signed by
 * the IdP: it is checked with the provider of the callback path (the only one there is, or the one
 * `/callback/<id>` names), before `state` finds the pending login, so that nothing in it is used
 * unchecked; its parameters then replace the callback's, and anything beside it is ignored. A login
 * that asked for a JWT response and got plain parameters is refused: no downgrade to an unsigned answer.
 */
import type { Request } from 'express';
import { PortcullisError } from '../errors.js';
import { isJwtResponseMode } from '../protocol/jarm.js';
import type { SigninRuntime } from './runtime.js';
import type { PendingLogin } from './transaction.js';

/** The callback's parameters: as they came, or those of its checked JWT response (`jwt: true`). */
export async function openJwtResponse(
  rt: SigninRuntime,
  req: Request,
  params: URLSearchParams,
  pathProvider: string | undefined,
): Promise<{ params: URLSearchParams; jwt: boolean }> {
  if (!params.has('response')) return { params, jwt: false };
  if (rt.providers.multi && pathProvider === undefined) {
    throw new PortcullisError(
      'ERR_JARM_INVALID',
      `a JWT response (JARM) arrived at ${rt.config.routes.callback}, which is no provider's: with several providers each IdP answers at ${rt.config.routes.callback}/<id>; register that as its redirect URI`,
      { status: 400 },
    );
  }
  const provider = await rt.providers.named(req, pathProvider ?? 'default');
  if (provider === undefined) {
    throw new PortcullisError('ERR_UNKNOWN_PROVIDER', 'the callback path names no provider of this app', {
      status: rt.config.providers.kind === 'resolved' ? 404 : 400,
    });
  }
  return { params: await provider.client.jwtResponse(params), jwt: true };
}

/** A login that asked for a JWT response accepts nothing else. */
export function checkResponseMode(login: PendingLogin, jwt: boolean, plain: URLSearchParams): void {
  if (jwt || !isJwtResponseMode(login.responseMode)) return;
  // The plain `error` is shown as a hint only: it is unsigned, so nothing acts on it.
  const error = plain.get('error');
  const said =
    error === null ? '' : ` (it says error "${error.replace(/[^\x20-\x7e]/g, '').slice(0, 80)}", unverified)`;
  throw new PortcullisError(
    'ERR_JARM_MISSING',
    `this login asked the IdP for a JWT response (response_mode "${login.responseMode}"), but the callback carries plain parameters${said}: refused, since only a signed response is trusted. If the IdP does not support JARM, set "authorizationParams.response_mode" to "query" or "form_post"; otherwise start again from the login page`,
    { status: 400 },
  );
}
