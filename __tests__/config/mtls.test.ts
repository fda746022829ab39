/**
 * mTLS options (RFC 8705) at start-up: one TypeError per rule, naming the option, for the client
 * certificate of the three products' clients (auth(), serviceAgent(), bearer()'s introspection) and
 * for bearer({ mtls }); and the variables each product reads.
 */
import { describe, expect, test } from '@jest/globals';
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import {
  type ServiceAgentOptions,
  serviceOptionsFromEnv,
  validateServiceOptions,
} from '../../lib/config/service.js';
import { signinConfig } from '../../lib/config/signin.js';
import { createCA, selfSigned } from '../helpers/tls-certs.js';

const ca = createCA();
const client = ca.issue({ cn: 'orders-service' });
const other = ca.issue({ cn: 'someone-else' });
const self = selfSigned({ cn: 'self' });
const expired = ca.issue({
  cn: 'old',
  notBefore: new Date('2020-01-01T00:00:00Z'),
  notAfter: new Date('2021-01-01T00:00:00Z'),
});

const service = (extra: ServiceAgentOptions, env: Record<string, string> = {}) =>
  validateServiceOptions(
    serviceOptionsFromEnv(
      { tokenEndpoint: 'https://idp.example.test/token', clientID: 'orders', ...extra },
      env,
    ),
  );

const withCertificate = { tlsClientCertificate: client.cert, tlsClientKey: client.key };

describe('a client certificate: one TypeError per rule', () => {
  test.each<[string, ServiceAgentOptions, string]>([
    [
      'a key without a certificate',
      { tlsClientKey: client.key },
      '"tlsClientKey" is set without "tlsClientCertificate" (or the SERVICE_TLS_CLIENT_CERTIFICATE environment variable): give both, or neither',
    ],
    [
      'a certificate without its key',
      { tlsClientCertificate: client.cert },
      '"tlsClientCertificate" needs its private key in "tlsClientKey" (or the SERVICE_TLS_CLIENT_KEY environment variable)',
    ],
    [
      "a key that is not the certificate's",
      { tlsClientCertificate: client.cert, tlsClientKey: other.key },
      '"tlsClientKey" is not the private key of "tlsClientCertificate" (CN=orders-service, O=portcullis tests): the key must be the certificate\'s own',
    ],
    [
      'a certificate that is not PEM',
      { tlsClientCertificate: 'MIIB...', tlsClientKey: client.key },
      '"tlsClientCertificate" must be a PEM certificate (the certificate, then its chain) or an X509Certificate',
    ],
    [
      'a PEM block that is not a certificate',
      {
        tlsClientCertificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
        tlsClientKey: client.key,
      },
      '"tlsClientCertificate" must be a PEM certificate (the certificate, then its chain) or an X509Certificate',
    ],
    [
      'a key that is not a private key',
      { tlsClientCertificate: client.cert, tlsClientKey: client.cert },
      '"tlsClientKey" must be an unencrypted PEM private key or a private KeyObject',
    ],
    [
      'an expired certificate',
      { tlsClientCertificate: expired.cert, tlsClientKey: expired.key },
      `"tlsClientCertificate" (CN=old, O=portcullis tests) expired on ${expired.x509.validTo}: renew it`,
    ],
    [
      'a secret and a certificate, no method',
      { ...withCertificate, clientSecret: 'secret-0123456789' },
      '"clientSecret" and "tlsClientCertificate" are both set: say which authenticates the client with "clientAuthMethod" (\'tls_client_auth\' for the certificate, or \'client_secret_basic\', the certificate then only binding the tokens)',
    ],
    [
      'a signing key and a certificate, no method',
      { ...withCertificate, clientAssertionSigningKey: client.key },
      '"clientAssertionSigningKey" and "tlsClientCertificate" are both set: say which authenticates the client with "clientAuthMethod" (\'tls_client_auth\' for the certificate, or \'private_key_jwt\', the certificate then only binding the tokens)',
    ],
    [
      'tls_client_auth with a secret',
      { ...withCertificate, clientAuthMethod: 'tls_client_auth', clientSecret: 'secret-0123456789' },
      '"clientSecret" is not used with the "clientAuthMethod" "tls_client_auth": remove it (the TLS client certificate authenticates the client)',
    ],
    [
      'tls_client_auth without a certificate',
      { clientAuthMethod: 'tls_client_auth' },
      '"tlsClientCertificate" and "tlsClientKey" are required for the "clientAuthMethod" "tls_client_auth" (or the SERVICE_TLS_CLIENT_CERTIFICATE environment variable), unless your own "fetch" presents the certificate',
    ],
    [
      "a certificate and a fetch of the app's",
      { ...withCertificate, fetch: globalThis.fetch },
      '"fetch" cannot be combined with "tlsClientCertificate": portcullis presents the certificate with its own https client. Drop "fetch", or leave "tlsClientCertificate" out and let your fetch present the certificate (clientAuthMethod: \'tls_client_auth\')',
    ],
    [
      'a server CA without a certificate',
      { clientSecret: 'secret-0123456789', tlsServerCA: ca.cert },
      '"tlsServerCA" applies to the connections made with "tlsClientCertificate", which is not set; to trust a CA for every connection of the process, use NODE_EXTRA_CA_CERTS',
    ],
    [
      'a server CA that is not PEM',
      { ...withCertificate, tlsServerCA: 'a CA' },
      '"tlsServerCA" must be one or more PEM CA certificates',
    ],
  ])('%s', (_name, options, message) => {
    expect(() => service(options)).toThrow(new TypeError(message));
  });

  test('the method follows from the certificate: tls_client_auth, or self_signed_tls_client_auth', () => {
    expect(service(withCertificate).clientAuth).toMatchObject({
      method: 'tls_client_auth',
      certificate: { thumbprint: client.thumbprint, selfSigned: false },
    });
    const own = service({ tlsClientCertificate: self.cert, tlsClientKey: self.keyObject });
    expect(own.clientAuth.method).toBe('self_signed_tls_client_auth');
  });

  test('a secret (or key) with a certificate, the method named: the certificate only binds the tokens', () => {
    const config = service({
      ...withCertificate,
      clientAuthMethod: 'client_secret_basic',
      clientSecret: 'secret-0123456789',
    });
    expect(config.clientAuth).toMatchObject({
      method: 'client_secret_basic',
      certificate: { thumbprint: client.thumbprint },
    });
  });

  test("tls_client_auth with the app's own fetch and no certificate: its fetch presents one", () => {
    const config = service({ clientAuthMethod: 'tls_client_auth', fetch: globalThis.fetch });
    expect(config.clientAuth).toMatchObject({ method: 'tls_client_auth', certificate: undefined });
  });

  test('the chain after the certificate is kept, the leaf first', () => {
    const config = service({ tlsClientCertificate: client.cert + ca.cert, tlsClientKey: client.key });
    expect(config.clientAuth.certificate?.chain).toBe(client.cert + ca.cert);
  });
});

describe('the variables of each product', () => {
  test('serviceAgent(): SERVICE_TLS_*, taken whole with the other credentials', () => {
    const env = {
      SERVICE_TLS_CLIENT_CERTIFICATE: client.cert,
      SERVICE_TLS_CLIENT_KEY: client.key,
      SERVICE_TLS_SERVER_CA: ca.cert,
    };
    expect(service({}, env).clientAuth).toMatchObject({
      method: 'tls_client_auth',
      certificate: { serverCA: [ca.cert] },
    });
    // A secret in code: the certificate of the environment joins it neither as a credential nor an ambiguity.
    const withSecret = service({ clientSecret: 'secret-0123456789' }, env);
    expect(withSecret.clientAuth).toMatchObject({ method: 'client_secret_basic', certificate: undefined });
  });

  test('auth(): TLS_CLIENT_CERTIFICATE and TLS_CLIENT_KEY; inside each provider with providers', () => {
    const config = signinConfig(
      { issuerBaseURL: 'https://idp.example.test', baseURL: 'https://app.example.test', clientID: 'app' },
      { TLS_CLIENT_CERTIFICATE: client.cert, TLS_CLIENT_KEY: client.key },
    );
    const provider = config.providers.kind === 'static' ? config.providers.byId.get('default') : undefined;
    expect(provider?.client).toMatchObject({
      method: 'tls_client_auth',
      certificate: { thumbprint: client.thumbprint },
    });
    expect(() =>
      signinConfig(
        { baseURL: 'https://app.example.test', tlsClientCertificate: client.cert, providers: {} },
        {},
      ),
    ).toThrow(new TypeError('"tlsClientCertificate" goes inside each provider when "providers" is set'));
    expect(() =>
      signinConfig(
        {
          baseURL: 'https://app.example.test',
          providers: {
            corp: { issuerBaseURL: 'https://idp.example.test', clientID: 'app', tlsClientKey: client.key },
          },
        },
        {},
      ),
    ).toThrow(
      new TypeError(
        '"providers.corp.tlsClientKey" is set without "providers.corp.tlsClientCertificate": give both, or neither',
      ),
    );
  });

  test("bearer(): API_TLS_* for introspection's client", () => {
    const config = validateBearerOptions(
      { issuerBaseURL: 'https://idp.example.test', audience: 'api', introspection: true },
      { API_CLIENT_ID: 'api', API_TLS_CLIENT_CERTIFICATE: client.cert, API_TLS_CLIENT_KEY: client.key },
    );
    expect(config.introspection?.client).toMatchObject({ method: 'tls_client_auth' });
  });
});

describe('bearer({ mtls })', () => {
  const bearer = (mtls: unknown, env: Record<string, string> = {}) =>
    validateBearerOptions({ issuerBaseURL: 'https://idp.example.test', audience: 'api', mtls } as never, env)
      .mtls;

  test('true: the TLS connection, unbound tokens accepted', () => {
    expect(bearer(true)).toEqual({ header: undefined, required: false });
    expect(bearer(undefined)).toBeUndefined();
    expect(bearer(false)).toBeUndefined();
  });

  test.each([
    ['nginx', { name: 'x-ssl-client-cert', format: 'pem' }],
    ['envoy', { name: 'x-forwarded-client-cert', format: 'xfcc' }],
    ['alb', { name: 'x-amzn-mtls-clientcert', format: 'pem' }],
    [
      { name: 'X-Client-Cert', format: 'pem' },
      { name: 'x-client-cert', format: 'pem' },
    ],
  ])('trustedHeader %j', (trustedHeader, header) => {
    expect(bearer({ trustedHeader })).toEqual({ header, required: false });
  });

  test.each<[unknown, string]>([
    [
      'nonsense',
      `"mtls.trustedHeader" must be 'nginx', 'envoy', 'alb', or { name, format } with a header name and the format 'pem' or 'xfcc'`,
    ],
    [
      { name: 'x-cert', format: 'der' },
      `"mtls.trustedHeader" must be 'nginx', 'envoy', 'alb', or { name, format } with a header name and the format 'pem' or 'xfcc'`,
    ],
    [
      { name: 'bad header', format: 'pem' },
      `"mtls.trustedHeader" must be 'nginx', 'envoy', 'alb', or { name, format } with a header name and the format 'pem' or 'xfcc'`,
    ],
  ])('trustedHeader %j is refused', (trustedHeader, message) => {
    expect(() => bearer({ trustedHeader })).toThrow(new TypeError(message));
  });

  test('other mistakes', () => {
    expect(() => bearer('yes')).toThrow(
      new TypeError('"mtls" must be a boolean or an object ({ trustedHeader, required })'),
    );
    expect(() => bearer({ required: 'yes' })).toThrow(new TypeError('"mtls.required" must be a boolean'));
    expect(() => bearer({ trustedHeadr: 'nginx' })).toThrow(
      new TypeError('bearer() has no option "mtls.trustedHeadr"; did you mean "mtls.trustedHeader"?'),
    );
  });

  test('API_MTLS_TRUSTED_HEADER and API_MTLS_REQUIRED: they turn it on, and fill mtls: true', () => {
    expect(bearer(undefined, { API_MTLS_TRUSTED_HEADER: 'envoy' })).toEqual({
      header: { name: 'x-forwarded-client-cert', format: 'xfcc' },
      required: false,
    });
    expect(
      bearer(undefined, { API_MTLS_TRUSTED_HEADER: 'x-client-cert:pem', API_MTLS_REQUIRED: 'true' }),
    ).toEqual({
      header: { name: 'x-client-cert', format: 'pem' },
      required: true,
    });
    expect(bearer(true, { API_MTLS_TRUSTED_HEADER: 'nginx' })?.header?.name).toBe('x-ssl-client-cert');
    expect(bearer(undefined, { API_MTLS: 'true' })).toEqual({ header: undefined, required: false });
  });
});
