/**
 * The `idp.token.…` events of auth()'s token requests (the code exchange and refresh): one per
 * request, whatever its outcome, with the endpoint's URL (no query), never a body or a header.
 */
import { OAuthResponseError, type PortcullisError, type PortcullisErrorCode } from '../../errors.js';
import { publicUrl } from '../idp-error.js';
import type { Emit } from './emitter.js';
import type { IdpEvent, SigninGrant } from './events.js';

/**
 * Errors that come after the token endpoint answered with tokens: the ID token in its answer was
 * refused (a claim, its signature, a mix-up, a tenant), so the request itself succeeded.
 */
const ID_TOKEN_REFUSALS: ReadonlySet<PortcullisErrorCode> = new Set([
  'ERR_ID_TOKEN_INVALID',
  'ERR_ISSUER_MISMATCH',
  'ERR_LOGIN_REFUSED',
]);

/**
 * Run a token request (`send`: the request with its processing), mapping its failure with
 * `mapError`, and tell `emit` how it went.
 */
export async function tokenRequest<T>(
  emit: Emit<IdpEvent> | undefined,
  grant: SigninGrant,
  endpoint: string | undefined,
  send: () => Promise<T>,
  mapError: (err: unknown) => Promise<PortcullisError>,
): Promise<T> {
  const started = performance.now();
  try {
    const result = await send();
    tell(emit, grant, endpoint, started);
    return result;
  } catch (err) {
    const error = await mapError(err);
    tell(emit, grant, endpoint, started, error);
    throw error;
  }
}

/** Tell `emit` of a token request started at `started` (performance.now()) that ended with `error`, if any. */
function tell(
  emit: Emit<IdpEvent> | undefined,
  grant: SigninGrant,
  endpoint: string | undefined,
  started: number,
  error?: PortcullisError,
): void {
  if (emit === undefined) return;
  const url = publicUrl(endpoint) ?? 'unknown';
  const durationMs = performance.now() - started;
  if (error === undefined || ID_TOKEN_REFUSALS.has(error.code)) {
    emit({ type: 'idp.token.completed', url, grant, durationMs });
    return;
  }
  emit({
    type: 'idp.token.failed',
    url,
    grant,
    code: error.code,
    error: error instanceof OAuthResponseError ? error.error : undefined,
    status: error.idpStatus,
    durationMs,
  });
}
