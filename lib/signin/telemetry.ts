/**
 * What auth()'s events and spans say (protocol/observability/): the provider a step concerns and,
 * for a refused callback or logout token, the stable reason with what was expected and received.
 * Never a token, code, verifier, state or nonce: the reason names such a check, never its values.
 */
import { OAuthResponseError, PortcullisError } from '../errors.js';
import type { SigninProviderFields, SigninRefusalFields } from '../protocol/observability/events.js';
import type { SpanHandle } from '../protocol/observability/spans.js';
import { signinRefusal } from '../protocol/oidc-refusal.js';
import type { ProviderRuntime } from './runtime.js';

/** The provider's issuer and id, for events; also set on the step's span, when there is one. */
export function providerFields(provider: ProviderRuntime, span?: SpanHandle): SigninProviderFields {
  const { id, issuer } = provider.config;
  span?.setAttribute('portcullis.provider', id);
  return { issuer: issuer.href, provider: id };
}

/** What a step learnt for its closing event: the provider, once known. */
export interface Told {
  fields: SigninProviderFields;
}

export interface Refused extends SigninRefusalFields {
  readonly status: number;
  /** The IdP's OAuth error code (`access_denied`, `invalid_grant`), when it sent one. */
  readonly error?: string | undefined;
}

/** Why `err` refused the step: its code, status, stable reason (set on the span too) and the IdP's error. */
export function refused(err: unknown, span?: SpanHandle): Refused {
  const refusal = signinRefusal(err);
  span?.setAttribute('portcullis.reason', refusal.reason);
  const error = err instanceof OAuthResponseError ? err.error : undefined;
  if (err instanceof PortcullisError) return { ...refusal, code: err.code, status: err.status, error };
  return { ...refusal, status: 500 };
}
