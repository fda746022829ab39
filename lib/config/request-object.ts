/**
 * `requestObject` (JAR, RFC 9101) of one provider. Request objects are signed with the client's
 * private key, `clientAssertionSigningKey`, whichever way the client authenticates at the token
 * endpoint (private_key_jwt, or a secret with `clientAuthMethod` set). Without a key, `requestObject`
 * is a start-up TypeError; the automatic use, for an IdP that requires request objects, fails at the
 * login instead (protocol/request-object.ts), since only the IdP's metadata tells.
 */
import {
  type ClientAuthConfig,
  type ClientAuthOptions,
  validateClientAuth,
} from '../protocol/client-auth.js';
import type { RequestObjectKey, RequestObjectSettings } from '../protocol/request-object.js';

function keyOf(
  options: ClientAuthOptions,
  client: ClientAuthConfig,
  scope: { envPrefix: string | undefined; optionPrefix: string },
): RequestObjectKey | undefined {
  let signer: ClientAuthConfig = client;
  if (client.signingKey === undefined) {
    if (options.clientAssertionSigningKey === undefined) return undefined;
    // The key of a client that authenticates otherwise, checked as private_key_jwt would check it.
    signer = validateClientAuth({ ...options, clientAuthMethod: 'private_key_jwt' }, scope);
  }
  return { key: signer.signingKey!, alg: signer.signingAlg!, kid: signer.kid };
}

/** A provider's request-object settings; `path` prefixes option names, `env` names the variables. */
export function requestObjectSettings(
  options: ClientAuthOptions,
  client: ClientAuthConfig,
  always: boolean,
  { path, env }: { path: string; env: boolean },
): RequestObjectSettings {
  const key = keyOf(options, client, { envPrefix: env ? '' : undefined, optionPrefix: path });
  const keyOption = `${path}clientAssertionSigningKey`;
  if (always && key === undefined) {
    const variable = env ? ' (or the CLIENT_ASSERTION_SIGNING_KEY environment variable)' : '';
    throw new TypeError(
      `"${path}requestObject" signs every authorization request with the client's private key: set "${keyOption}"${variable} to the private key whose public key the IdP has for this client`,
    );
  }
  return Object.freeze({ always, key, keyOption });
}
