/**
 * Client authentication options (RFC 6749 §2.3, RFC 7523), declared once and shared by the three
 * products, each with its own variables: sign-in reads `CLIENT_ID`, `bearer()`'s introspection
 * `API_CLIENT_ID`, `serviceAgent()` `SERVICE_CLIENT_ID`. One set of names for all three would let
 * the sign-in client's secret become the service's, or the API's.
 */
import type { ClientAuthOptions } from '../protocol/client-auth.js';
import { compact } from './env.js';
import { envValue, type OptionsTable } from './option-spec.js';

/** The client-auth options, their variables prefixed with `prefix` (`''`, `'API_'`, `'SERVICE_'`). */
export function clientAuthTable(prefix: string, role: string): OptionsTable<ClientAuthOptions> {
  return {
    clientID: { env: `${prefix}CLIENT_ID`, type: 'string', doc: `The client ID of ${role} at the IdP.` },
    clientSecret: {
      env: `${prefix}CLIENT_SECRET`,
      envByRule: true,
      type: 'string | (() => string | Promise<string>)',
      doc: 'The client secret, or a function returning the current one (rotation without restart).',
    },
    clientAssertionSigningKey: {
      env: `${prefix}CLIENT_ASSERTION_SIGNING_KEY`,
      envByRule: true,
      type: 'JWK | string | KeyObject',
      doc: 'A private key (JWK, PKCS#8 PEM or KeyObject): selects `private_key_jwt` (RFC 7523).',
    },
    clientAssertionSigningAlg: {
      env: `${prefix}CLIENT_ASSERTION_SIGNING_ALG`,
      type: 'string',
      default: 'from the key: RS256, ES256, ES384, ES512 or EdDSA',
      doc: 'The JWS algorithm of the client assertion.',
    },
    clientAuthMethod: {
      env: `${prefix}CLIENT_AUTH_METHOD`,
      type: "'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'",
      default: "'private_key_jwt' with a key, else 'client_secret_basic'",
      doc: 'How the client authenticates at the token endpoint. Use `client_secret_post` with an IdP that does not decode form-encoded Basic credentials (RFC 6749 §2.3.1).',
    },
  };
}

/**
 * The environment fills the client-auth options. The credentials are taken whole: a secret from
 * the environment never joins a key given in code, or the other way round.
 */
export function clientAuthFromEnv(
  options: ClientAuthOptions,
  env: Record<string, string | undefined>,
  table: OptionsTable<ClientAuthOptions>,
): ClientAuthOptions {
  const noCredentials = options.clientSecret === undefined && options.clientAssertionSigningKey === undefined;
  const fromEnv = (name: keyof ClientAuthOptions) => envValue(table[name], env) as never;
  return compact<ClientAuthOptions>({
    clientID: options.clientID ?? fromEnv('clientID'),
    clientSecret: noCredentials ? fromEnv('clientSecret') : options.clientSecret,
    clientAssertionSigningKey: noCredentials
      ? fromEnv('clientAssertionSigningKey')
      : options.clientAssertionSigningKey,
    clientAssertionSigningAlg: options.clientAssertionSigningAlg ?? fromEnv('clientAssertionSigningAlg'),
    clientAuthMethod: options.clientAuthMethod ?? fromEnv('clientAuthMethod'),
  });
}
