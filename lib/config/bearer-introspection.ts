/**
 * `bearer({ introspection })`: opaque (non-JWT) tokens are validated at the IdP's introspection
 * endpoint (RFC 7662), which `bearer()` calls authenticated as a client of the IdP.
 */
import {
  type ClientAuthConfig,
  type ClientAuthOptions,
  validateClientAuth,
} from '../protocol/client-auth.js';
import { INTROSPECTION_OPTIONS } from './bearer-options.js';
import { clientAuthFromEnv } from './client-auth-options.js';
import { envValue } from './option-spec.js';
import { requireCallableUrl } from './validate.js';

/** Introspection (RFC 7662) for opaque tokens: the client credentials `bearer()` calls it with. */
export interface IntrospectionOptions extends ClientAuthOptions {
  /** [API_INTROSPECTION_ENDPOINT] Defaults to the IdP's advertised `introspection_endpoint`. */
  endpoint?: string | URL | undefined;
}

export interface BearerIntrospectionConfig {
  readonly client: ClientAuthConfig;
  /** `undefined`: the IdP's advertised `introspection_endpoint`. */
  readonly endpoint: URL | undefined;
}

type Env = Record<string, string | undefined>;

export function validateIntrospection(
  value: unknown,
  env: Env,
  { allowInsecureHttp, customFetch }: { allowInsecureHttp: boolean; customFetch: boolean },
): BearerIntrospectionConfig | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null)) {
    throw new TypeError('"introspection" must be true or an object with client credentials');
  }
  const given = value === true ? {} : (value as IntrospectionOptions);
  const client = validateClientAuth(clientAuthFromEnv(given, env, INTROSPECTION_OPTIONS), {
    envPrefix: 'API_',
    optionPrefix: 'introspection.',
    customFetch,
  });
  const endpointValue = given.endpoint ?? envValue(INTROSPECTION_OPTIONS.endpoint, env);
  const endpoint =
    endpointValue === undefined
      ? undefined
      : requireCallableUrl(endpointValue, 'introspection.endpoint', { allowInsecureHttp });
  return Object.freeze({ client, endpoint });
}
