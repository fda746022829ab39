/**
 * Authorization request parameters (OpenID Connect Core §3.1.2.1), from options or per login: the
 * ones portcullis owns (PKCE, `state`, `nonce`, ...) cannot be set, and `scope` must include `openid`.
 */
import type { AuthorizationParams, ResponseMode } from './signin.js';

const RESPONSE_MODES: readonly ResponseMode[] = ['query', 'form_post', 'jwt', 'query.jwt', 'form_post.jwt'];

/** Parameters the library owns: letting callers set them would break PKCE, state or nonce. */
const RESERVED = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request',
  'request_uri',
]);

/** Check authorization parameters (from options, or per call to `res.oidc.login()`). */
export function checkAuthorizationParams(params: unknown, option: string): AuthorizationParams {
  if (params === undefined) return {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new TypeError(`"${option}" must be an object`);
  }
  const out: AuthorizationParams = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (RESERVED.has(key))
      throw new TypeError(`"${option}.${key}" is set by portcullis and cannot be overridden`);
    if (key === 'response_type' && value !== 'code')
      throw new TypeError(`"${option}.response_type" must be "code"`);
    if (key === 'response_mode' && !(RESPONSE_MODES as readonly unknown[]).includes(value)) {
      throw new TypeError(
        `"${option}.response_mode" must be one of ${RESPONSE_MODES.map((m) => `"${m}"`).join(', ')}`,
      );
    }
    const ok =
      typeof value === 'string' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!ok) throw new TypeError(`"${option}.${key}" must be a string, a number or a list of strings`);
    out[key] = value as string | string[] | number;
  }
  if (out.scope !== undefined && !String(out.scope).split(' ').includes('openid')) {
    throw new TypeError(`"${option}.scope" must include "openid"`);
  }
  return out;
}
