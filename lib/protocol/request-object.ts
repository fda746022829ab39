/**
 * JAR (RFC 9101): the authorization request as a request object, a JWT signed with the client's
 * private key (`clientAssertionSigningKey`), so that the IdP knows the parameters come from this
 * client and were not altered in the browser. The request then carries only `client_id` and
 * `request`: in the browser's URL, or in the PAR body (RFC 9126) when PAR is on.
 *
 *   signedRequest  used when asked for, or when the IdP's metadata says `require_signed_request_object`;
 *                  no key for an IdP that requires one, an algorithm the IdP does not take, or an IdP
 *                  that takes no request objects: ERR_IDP_INCOMPATIBLE, naming the option to change
 */
import type { KeyObject } from 'node:crypto';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../errors.js';
import { safeCause } from './http.js';

/** The key that signs request objects: the client's private key and its JWS algorithm. */
export interface RequestObjectKey {
  readonly key: KeyObject;
  readonly alg: string;
  readonly kid: string | undefined;
}

export interface RequestObjectSettings {
  /** `requestObject: true`: every authorization request is a request object. */
  readonly always: boolean;
  /** The client's private key, when it has one (`undefined`: JAR only fails, if the IdP requires it). */
  readonly key: RequestObjectKey | undefined;
  /** The key's option as messages name it (`clientAssertionSigningKey`, `providers.corp.clientAssertionSigningKey`). */
  readonly keyOption: string;
}

/** Turns an authorization request into its signed form, or leaves it as it is when JAR is not used. */
export type RequestObjects = (
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  params: URLSearchParams,
) => Promise<URLSearchParams>;

function incompatible(message: string): PortcullisError {
  return new PortcullisError('ERR_IDP_INCOMPATIBLE', message, { status: 500 });
}

/** What stops this client from sending a request object the IdP accepts, if anything. */
function unusable(
  as: oauth.AuthorizationServer,
  settings: RequestObjectSettings,
  clientId: string,
): PortcullisError | undefined {
  const { key, keyOption } = settings;
  if (key === undefined) {
    return incompatible(
      `the IdP ${as.issuer} requires signed request objects (require_signed_request_object, RFC 9101), but there is no private key to sign them: set "${keyOption}" to the private key whose public key the IdP has for client "${clientId}"`,
    );
  }
  if (as.request_parameter_supported === false) {
    return incompatible(
      `"requestObject" is on, but the IdP ${as.issuer} takes no request objects (request_parameter_supported: false): turn "requestObject" off, or enable request objects at the IdP`,
    );
  }
  const algs = as.request_object_signing_alg_values_supported;
  if (Array.isArray(algs) && !algs.includes(key.alg)) {
    return incompatible(
      `the IdP ${as.issuer} takes request objects signed with ${algs.join(', ')}, not ${key.alg}: set "clientAssertionSigningAlg" to one of those, or "${keyOption}" to a key of a type it takes`,
    );
  }
  return undefined;
}

export function requestObjects(settings: RequestObjectSettings): RequestObjects {
  let privateKey: Promise<oauth.PrivateKey> | undefined;
  const importKey = async ({ key, alg, kid }: RequestObjectKey): Promise<oauth.PrivateKey> => {
    const jwk = key.export({ format: 'jwk' }) as jose.JWK;
    const imported = (await jose.importJWK(jwk, alg, { extractable: false })) as CryptoKey;
    return kid === undefined ? { key: imported } : { key: imported, kid };
  };
  return async function signedRequest(as, client, params) {
    if (!settings.always && as.require_signed_request_object !== true) return params;
    const refused = unusable(as, settings, client.client_id);
    if (refused !== undefined) throw refused;
    privateKey ??= importKey(settings.key!);
    let request: string;
    try {
      request = await oauth.issueRequestObject(as, client, params, await privateKey);
    } catch (err) {
      // A parameter the request object must hold as JSON (`claims`, `authorization_details`) is not.
      const message = err instanceof Error ? err.message : String(err);
      throw new PortcullisError('ERR_BAD_REQUEST', `the request object could not be built: ${message}`, {
        status: 400,
        cause: safeCause(err),
      });
    }
    return new URLSearchParams({ client_id: client.client_id, request });
  };
}
