/**
 * The FAPI 2.0 Security Profile's rules about options, as data: each names a rule of
 * lib/protocol/fapi2.ts's catalogue (its id and section) and says what in the options breaks it,
 * naming the option. fapi2.ts applies them; a broken rule is one start-up TypeError.
 *
 * mTLS (RFC 8705) enters through three predicates, here and nowhere else, so that client
 * certificates and `bearer({ mtls })` count as soon as those options exist:
 * - client authentication is mTLS: `clientAuthMethod` is `tls_client_auth` or `self_signed_tls_client_auth`;
 * - a client's tokens are bound to its certificate: it has a `tlsClientCertificate` (or an mTLS method);
 * - an API checks certificate-bound tokens: `bearer({ mtls })` is set.
 */
import type { ClientAuthConfig } from '../protocol/client-auth.js';
import type { DpopKey } from '../protocol/dpop/key-pair.js';
import { FAPI2_ALGORITHMS, type Fapi2RuleId, isFapiAlg } from '../protocol/fapi2.js';
import { isLoopbackHost } from '../protocol/url-policy.js';

export type Options = Readonly<Record<string, unknown>>;

const MTLS_METHODS: readonly unknown[] = ['tls_client_auth', 'self_signed_tls_client_auth'];

/** Client authentication by mutual TLS (RFC 8705 §2). */
export function usesMtlsClientAuth(options: Options): boolean {
  return MTLS_METHODS.includes(options['clientAuthMethod']);
}

/** A client's tokens are bound to its TLS client certificate (RFC 8705 §3). */
export function mtlsBoundClient(options: Options): boolean {
  return options['tlsClientCertificate'] !== undefined || usesMtlsClientAuth(options);
}

/** An API that checks certificate-bound tokens (RFC 8705 §3), `bearer({ mtls })`. */
export function apiChecksMtls(options: Options): boolean {
  return options['mtls'] !== undefined && options['mtls'] !== false;
}

export interface OptionRule<V> {
  readonly id: Fapi2RuleId;
  /** What is wrong, naming the option; `undefined` when the options comply. */
  readonly check: (view: V) => string | undefined;
}

/** One level of options: auth()'s own, a provider's or an agent's, where they sit, and what they resolved to. */
export interface View {
  readonly options: Options;
  /** `''`, or `providers.corp.`: how messages name the options. */
  readonly path: string;
  readonly client?: ClientAuthConfig | undefined;
  readonly dpopKey?: DpopKey | undefined;
}

const ALGS = FAPI2_ALGORITHMS.join(', ');
const MIN_RSA_BITS = 2048;

/** The first of a list that is not one of the profile's algorithms. */
function otherAlg(value: unknown): unknown {
  return Array.isArray(value) ? value.find((alg) => !isFapiAlg(alg)) : undefined;
}

/** `clockTolerance` from 10 to 60 s: what is issued up to 10 s ahead is taken, beyond 60 s never. */
function clockRule(fallback: number): OptionRule<View> {
  return {
    id: 'fapi2-clock',
    check: ({ options }) => {
      const tolerance = options['clockTolerance'] ?? fallback;
      return typeof tolerance === 'number' && (tolerance < 10 || tolerance > 60)
        ? `"clockTolerance" is ${tolerance}: it must be 10 to 60 seconds`
        : undefined;
    },
  };
}

const tls: OptionRule<View> = {
  id: 'fapi2-tls',
  check: ({ options }) =>
    options['allowInsecureHttp'] === true
      ? '"allowInsecureHttp" is true: remove it (loopback hosts need no option)'
      : undefined,
};

const redirectUri: OptionRule<View> = {
  id: 'fapi2-redirect-uri',
  check: ({ options }) => {
    const base = options['baseURL'];
    const url = typeof base === 'string' && URL.canParse(base) ? new URL(base) : undefined;
    return url?.protocol === 'http:' && !isLoopbackHost(url.hostname)
      ? `"baseURL" is http on "${url.hostname}": the redirect URI must be https`
      : undefined;
  },
};

const par: OptionRule<View> = {
  id: 'fapi2-par',
  check: ({ options, path }) =>
    options['pushedAuthorizationRequests'] === false
      ? `"${path}pushedAuthorizationRequests" is false: remove it (the profile turns PAR on)`
      : undefined,
};

const clientDpop: OptionRule<View> = {
  id: 'fapi2-sender-constrained',
  check: ({ options, path }) =>
    options['dpop'] === false && !mtlsBoundClient(options)
      ? `"${path}dpop" is false, and no TLS client certificate binds the tokens either: remove it`
      : undefined,
};

/** An algorithm option (`idTokenSigningAlg`, `clientAssertionSigningAlg`) set to another algorithm. */
function algOption(name: string): OptionRule<View> {
  return {
    id: 'fapi2-algorithms',
    check: ({ options, path }) => {
      const alg = options[name];
      return alg !== undefined && !isFapiAlg(alg)
        ? `"${path}${name}" is "${String(alg)}": use one of ${ALGS}`
        : undefined;
    },
  };
}

const idTokenAlg = algOption('idTokenSigningAlg');

const SECRET_METHODS: readonly unknown[] = ['client_secret_basic', 'client_secret_post'];
const NO_SECRET =
  'use "clientAssertionSigningKey" (private_key_jwt) or a TLS client certificate (mTLS) instead';

/** How the client authenticates, judged before its options are validated (so a missing key is named as such). */
const clientAuth: OptionRule<View> = {
  id: 'fapi2-client-auth',
  check: ({ options, path }) => {
    const method = options['clientAuthMethod'];
    if (SECRET_METHODS.includes(method))
      return `"${path}clientAuthMethod" is "${String(method)}": ${NO_SECRET}`;
    if (options['clientSecret'] !== undefined) return `"${path}clientSecret" is set: ${NO_SECRET}`;
    if (options['clientAssertionSigningKey'] === undefined && !mtlsBoundClient(options)) {
      return `"${path}clientAssertionSigningKey" is not set: the client needs a private key (private_key_jwt) or a TLS client certificate (mTLS)`;
    }
    return undefined;
  },
};

const assertionAlg = algOption('clientAssertionSigningAlg');

/** RSA modulus bits of a public JWK (`n`), or `undefined` for another key type. */
function rsaBits(n: unknown): number | undefined {
  return typeof n === 'string' ? Buffer.from(n, 'base64url').length * 8 : undefined;
}

/** The client's key, once parsed: its algorithm (from the key when none was given) and size. */
const clientKey: OptionRule<View>[] = [
  {
    id: 'fapi2-client-auth',
    check: ({ client, path }) =>
      client !== undefined && client.method !== 'private_key_jwt' && !MTLS_METHODS.includes(client.method)
        ? `client authentication would be "${client.method}" ("${path}clientAuthMethod"): ${NO_SECRET}`
        : undefined,
  },
  {
    id: 'fapi2-algorithms',
    check: ({ client, path }) =>
      client?.signingAlg !== undefined && !isFapiAlg(client.signingAlg)
        ? `"${path}clientAssertionSigningKey" signs ${client.signingAlg}: use a P-256 (ES256), Ed25519 (EdDSA) or RSA (PS256) key`
        : undefined,
  },
  {
    id: 'fapi2-key-size',
    check: ({ client, path }) => {
      const bits = client?.signingKey?.asymmetricKeyDetails?.modulusLength;
      return bits !== undefined && bits < MIN_RSA_BITS
        ? `"${path}clientAssertionSigningKey" is an RSA key of ${bits} bits: use ${MIN_RSA_BITS} bits or more`
        : undefined;
    },
  },
];

/** auth() as a whole: what no provider can change. */
export const SIGNIN_RULES: readonly OptionRule<View>[] = [tls, redirectUri, clockRule(60)];

/** Each IdP of auth(), on its own options (auth()'s own, as the default of all, first). */
export const IDP_RULES: readonly OptionRule<View>[] = [par, clientDpop, idTokenAlg];

/** Each client of auth() and serviceAgent(), before its options are validated. */
export const CLIENT_RULES: readonly OptionRule<View>[] = [clientAuth, assertionAlg];

/** Each client, with its key parsed. */
export const CLIENT_KEY_RULES: readonly OptionRule<View>[] = clientKey;

const agentDpopAlg: OptionRule<View> = {
  id: 'fapi2-algorithms',
  check: ({ options, dpopKey }) => {
    const given = (options['dpop'] as { alg?: unknown } | undefined)?.alg;
    if (given !== undefined && !isFapiAlg(given))
      return `"dpop.alg" is "${String(given)}": use one of ${ALGS}`;
    return dpopKey !== undefined && !isFapiAlg(dpopKey.alg)
      ? `"dpop.key" signs ${dpopKey.alg}: use a P-256 (ES256), Ed25519 (EdDSA) or RSA (PS256) key`
      : undefined;
  },
};

const agentDpopKeySize: OptionRule<View> = {
  id: 'fapi2-key-size',
  check: ({ dpopKey }) => {
    const bits = rsaBits(dpopKey?.publicJwk.n);
    return bits !== undefined && bits < MIN_RSA_BITS
      ? `"dpop.key" is an RSA key of ${bits} bits: use ${MIN_RSA_BITS} bits or more`
      : undefined;
  },
};

/** serviceAgent(), before its options are validated. */
export const SERVICE_RULES: readonly OptionRule<View>[] = [tls, clientDpop, ...CLIENT_RULES];

/** serviceAgent(), with its keys parsed. */
export const SERVICE_KEY_RULES: readonly OptionRule<View>[] = [...clientKey, agentDpopAlg, agentDpopKeySize];

const dpopOf = (options: Options) =>
  typeof options['dpop'] === 'object' && options['dpop'] !== null ? (options['dpop'] as Options) : {};

/** bearer(), with the profile's defaults in. */
export const BEARER_RULES: readonly OptionRule<View>[] = [
  tls,
  {
    id: 'fapi2-header-tokens',
    check: ({ options }) => {
      const where = ['allowQueryToken', 'allowBodyToken'].find((name) => options[name] === true);
      return where === undefined ? undefined : `"${where}" is true: remove it`;
    },
  },
  {
    id: 'fapi2-sender-constrained',
    check: ({ options }) => {
      if (apiChecksMtls(options)) return undefined;
      if (options['dpop'] === false)
        return '"dpop" is false, and "mtls" is not set: no token could be accepted';
      return options['baseURL'] === undefined
        ? '"baseURL" (API_BASE_URL) is not set: DPoP proofs are checked against it, and "mtls" is not set either'
        : undefined;
    },
  },
  {
    id: 'fapi2-algorithms',
    check: ({ options }) => {
      if (options['secret'] !== undefined) return `"secret" is set: HMAC is not allowed; use one of ${ALGS}`;
      const alg = otherAlg(options['algorithms']);
      if (alg !== undefined) return `"algorithms" has "${String(alg)}": use only ${ALGS}`;
      const proofAlg = otherAlg(dpopOf(options)['algorithms']);
      return proofAlg === undefined
        ? undefined
        : `"dpop.algorithms" has "${String(proofAlg)}": use only ${ALGS}`;
    },
  },
  clockRule(10),
  {
    id: 'fapi2-clock',
    check: ({ options }) => {
      const window = dpopOf(options)['iatWindow'];
      const tolerance = options['clockTolerance'];
      return typeof window === 'number' && typeof tolerance === 'number' && window + tolerance > 60
        ? `"dpop.iatWindow" (${window}) and "clockTolerance" (${tolerance}) accept proofs issued more than 60 seconds ahead: keep their sum at 60 or less`
        : undefined;
    },
  },
];
