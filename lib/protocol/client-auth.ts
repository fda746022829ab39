/**
 * Client authentication at the token endpoint (RFC 6749 §2.3, RFC 7523, RFC 8705): client_secret_basic
 * (the default), client_secret_post, private_key_jwt, or a TLS client certificate (tls_client_auth,
 * self_signed_tls_client_auth: mtls/client-certificate.ts). The options are checked at start-up;
 * the key is imported once, lazily, and a secret given as a function is read on every request so
 * that a rotated secret is picked up without a restart.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../errors.js';
import { safeCause } from './http.js';
import {
  type ClientCertificate,
  type ClientCertificateOptions,
  certificateMethod,
  checkTlsMethod,
  isTlsMethod,
  TLS_METHODS,
  type TlsClientAuthMethod,
  validateClientCertificate,
} from './mtls/client-certificate.js';

export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | TlsClientAuthMethod;

/** A client secret, or a function that returns the current one (rotation without restart). */
export type ClientSecret = string | (() => string | Promise<string>);

/** A private key for private_key_jwt: a private JWK (object or JSON), a PKCS#8 PEM, or a KeyObject. */
export type ClientAssertionSigningKey = jose.JWK | string | KeyObject;

/**
 * How a client authenticates. Each product reads its own variables: `auth()` `CLIENT_ID`,
 * `bearer()`'s introspection `API_CLIENT_ID`, `serviceAgent()` `SERVICE_CLIENT_ID`, and so on.
 */
export interface ClientAuthOptions extends ClientCertificateOptions {
  /** [CLIENT_ID] The client ID registered at the IdP. */
  clientID?: string | undefined;
  /** [CLIENT_SECRET] A string, or a function returning the current secret. */
  clientSecret?: ClientSecret | undefined;
  /** [CLIENT_ASSERTION_SIGNING_KEY] Selects private_key_jwt (RFC 7523). */
  clientAssertionSigningKey?: ClientAssertionSigningKey | undefined;
  /** [CLIENT_ASSERTION_SIGNING_ALG] Defaults from the key type (RS256, ES256, ES384, ES512, EdDSA). */
  clientAssertionSigningAlg?: string | undefined;
  /**
   * [CLIENT_AUTH_METHOD] Defaults to private_key_jwt with a key, tls_client_auth (or
   * self_signed_tls_client_auth) with only a TLS client certificate, else client_secret_basic. Use
   * `client_secret_post` with an IdP that does not decode form-encoded Basic credentials.
   */
  clientAuthMethod?: ClientAuthMethod | undefined;
}

export interface ClientAuthConfig {
  readonly clientID: string;
  readonly method: ClientAuthMethod;
  readonly secret: ClientSecret | undefined;
  readonly signingKey: KeyObject | undefined;
  readonly signingAlg: string | undefined;
  readonly kid: string | undefined;
  /** The TLS client certificate (RFC 8705), whatever the method: tokens issued to it are bound to it. */
  readonly certificate: ClientCertificate | undefined;
}

const METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  ...TLS_METHODS,
];

function defaultAlg(key: KeyObject, p: string): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return 'RS256';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return 'ES256';
      if (curve === 'secp384r1') return 'ES384';
      if (curve === 'secp521r1') return 'ES512';
      break;
    }
    case 'ed25519':
      return 'EdDSA';
  }
  throw new TypeError(
    `"${p}clientAssertionSigningKey" must be an RSA, EC (P-256, P-384, P-521) or Ed25519 key`,
  );
}

function parseSigningKey(
  input: ClientAssertionSigningKey,
  p: string,
): { key: KeyObject; kid: string | undefined } {
  try {
    if (typeof input === 'string') {
      const text = input.trim();
      if (text.startsWith('{')) {
        const jwk = JSON.parse(text) as jose.JWK;
        return {
          key: createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
          kid: jwk.kid,
        };
      }
      return { key: createPrivateKey(text), kid: undefined };
    }
    if (
      typeof (input as KeyObject).asymmetricKeyType === 'string' ||
      (input as KeyObject).type !== undefined
    ) {
      if ((input as KeyObject).type === 'private') return { key: input as KeyObject, kid: undefined };
    }
    const jwk = input as jose.JWK;
    return {
      key: createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
      kid: jwk.kid,
    };
  } catch {
    throw new TypeError(
      `"${p}clientAssertionSigningKey" must be a private JWK, a PKCS#8 PEM or a private KeyObject`,
    );
  }
}

/** Validate the client-auth options at start-up; throws one TypeError naming the option. */
export function validateClientAuth(
  options: ClientAuthOptions,
  {
    requireCredentials = true,
    envPrefix,
    optionPrefix = '',
    customFetch = false,
  }: {
    requireCredentials?: boolean;
    /**
     * The product's variable prefix, named in messages (`''`, `'API_'`, `'SERVICE_'`); `undefined` for
     * options that never come from the environment (a provider of `auth({ providers })`).
     */
    envPrefix: string | undefined;
    /** Where the options sit (`'introspection.'`), named in messages. */
    optionPrefix?: string;
    /** The app gave its own `fetch`, which may present a TLS client certificate itself. */
    customFetch?: boolean;
  },
): ClientAuthConfig {
  const { clientID, clientSecret, clientAssertionSigningKey, clientAssertionSigningAlg } = options;
  const orEnv = (name: string) =>
    envPrefix === undefined ? '' : ` (or the ${envPrefix}${name} environment variable)`;
  const p = optionPrefix;
  if (typeof clientID !== 'string' || clientID === '') {
    throw new TypeError(`"${p}clientID" is required${orEnv('CLIENT_ID')}`);
  }
  if (options.clientAuthMethod !== undefined && !METHODS.includes(options.clientAuthMethod)) {
    throw new TypeError(`"${p}clientAuthMethod" must be one of ${METHODS.join(', ')}`);
  }
  const context = { p, orEnv, customFetch };
  const certificate = validateClientCertificate(options, context);
  const method: ClientAuthMethod =
    options.clientAuthMethod ??
    (certificate !== undefined
      ? certificateMethod(certificate, options, p)
      : clientAssertionSigningKey !== undefined
        ? 'private_key_jwt'
        : 'client_secret_basic');
  const none = { secret: undefined, signingKey: undefined, signingAlg: undefined, kid: undefined };

  if (isTlsMethod(method)) {
    checkTlsMethod(method, options, certificate, context);
    return { clientID, method, ...none, certificate };
  }

  if (method === 'private_key_jwt') {
    if (clientAssertionSigningKey === undefined) {
      throw new TypeError(
        `"${p}clientAssertionSigningKey" is required for the "clientAuthMethod" "private_key_jwt"`,
      );
    }
    const { key, kid } = parseSigningKey(clientAssertionSigningKey, p);
    if (key.type !== 'private') {
      throw new TypeError(`"${p}clientAssertionSigningKey" must be a private key`);
    }
    const alg = clientAssertionSigningAlg ?? defaultAlg(key, p);
    if (!/^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/.test(alg)) {
      throw new TypeError(`"${p}clientAssertionSigningAlg" must be an asymmetric JWS algorithm`);
    }
    return { clientID, method, secret: undefined, signingKey: key, signingAlg: alg, kid, certificate };
  }
  if (clientSecret === undefined || clientSecret === '') {
    if (!requireCredentials) return { clientID, method, ...none, certificate };
    throw new TypeError(
      `"${p}clientSecret" is required for the "clientAuthMethod" "${method}"${orEnv('CLIENT_SECRET')}`,
    );
  }
  if (typeof clientSecret !== 'string' && typeof clientSecret !== 'function') {
    throw new TypeError(`"${p}clientSecret" must be a string or a function returning one`);
  }
  return { clientID, method, ...none, secret: clientSecret, certificate };
}

/** Build oauth4webapi's ClientAuth for one request (reads a rotating secret each time). */
export function createClientAuth(config: ClientAuthConfig): () => Promise<oauth.ClientAuth> {
  let privateKey: Promise<oauth.PrivateKey> | undefined;
  return async () => {
    switch (config.method) {
      case 'private_key_jwt': {
        privateKey ??= (async () => {
          const jwk = config.signingKey!.export({ format: 'jwk' }) as jose.JWK;
          const key = (await jose.importJWK(jwk, config.signingAlg!, { extractable: false })) as CryptoKey;
          return config.kid === undefined ? { key } : { key, kid: config.kid };
        })();
        return oauth.PrivateKeyJwt(await privateKey);
      }
      case 'client_secret_post':
        return oauth.ClientSecretPost(await readSecret(config.secret));
      // RFC 8705 §2: the TLS handshake authenticates; the body names the client.
      case 'tls_client_auth':
      case 'self_signed_tls_client_auth':
        return oauth.TlsClientAuth();
      default:
        return oauth.ClientSecretBasic(await readSecret(config.secret));
    }
  };
}

async function readSecret(secret: ClientSecret | undefined): Promise<string> {
  let value: unknown;
  try {
    value = typeof secret === 'function' ? await secret() : secret;
  } catch (err) {
    throw new PortcullisError('ERR_TOKEN_REQUEST_FAILED', 'the "clientSecret" function failed', {
      status: 500,
      cause: safeCause(err),
    });
  }
  if (typeof value !== 'string' || value === '') {
    throw new PortcullisError('ERR_TOKEN_REQUEST_FAILED', 'the "clientSecret" function returned no secret', {
      status: 500,
    });
  }
  return value;
}
