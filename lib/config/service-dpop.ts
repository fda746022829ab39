/**
 * `serviceAgent({ dpop })` (RFC 9449): the key its tokens are bound to, from the options or from
 * SERVICE_DPOP / SERVICE_DPOP_KEY, parsed (or generated) and checked once, at start-up.
 */
import {
  DPOP_ALGORITHMS,
  type DpopAlgorithm,
  type DpopKey,
  type DpopKeyInput,
  dpopKey,
} from '../protocol/dpop/key-pair.js';
import { envValue } from './option-spec.js';
import { SERVICE_DPOP_OPTIONS, SERVICE_OPTIONS } from './service-options.js';

/** `dpop: { ... }`: the key to bind tokens to, when it is not a fresh one per agent. */
export interface ServiceAgentDpopOptions {
  /**
   * [SERVICE_DPOP_KEY] The key pair: a WebCrypto `CryptoKeyPair`, or a private JWK (object or JSON),
   * PKCS#8 PEM or private `KeyObject` (the public key is derived). Give every process of a fleet the
   * same key to let them share one token through a shared cache.
   * @default a fresh ES256 key pair per agent, held in memory only
   */
  key?: DpopKeyInput | undefined;
  /** The proof's JWS algorithm. @default from the key: ES256 for P-256, EdDSA for Ed25519, PS256 for RSA */
  alg?: DpopAlgorithm | undefined;
}

/** The `dpop` option as given: on, off, or the key to use. */
type ServiceDpopOption = boolean | ServiceAgentDpopOptions | undefined;

/**
 * SERVICE_DPOP=true, and SERVICE_DPOP_KEY (a private JWK as JSON, or a PEM) which implies it. The key
 * also serves an explicit `dpop: true` (code turns DPoP on, the deployment supplies the fleet's key);
 * `dpop: false` or `dpop: { ... }` in code win outright.
 */
export function dpopWithEnv(
  option: ServiceDpopOption,
  env: Record<string, string | undefined>,
): ServiceDpopOption {
  if (option !== undefined && option !== true) return option;
  const key = envValue(SERVICE_DPOP_OPTIONS.key, env) as string | undefined;
  const on = option ?? (envValue(SERVICE_OPTIONS.dpop, env) as boolean | undefined);
  if (key !== undefined && on !== false) return { key };
  return on;
}

/** `dpop`: `true`, `false`, or `{ key?, alg? }`; the key is parsed (or generated) here, once. */
export function dpopOption(value: unknown): DpopKey | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return dpopKey(undefined);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('"dpop" must be a boolean or an object { key?, alg? }');
  }
  const unknown = Object.keys(value).filter((name) => name !== 'key' && name !== 'alg');
  if (unknown.length > 0) throw new TypeError(`"dpop" has no option "${unknown[0]}" (only "key" and "alg")`);
  const { key, alg } = value as ServiceAgentDpopOptions;
  if (alg !== undefined && !(DPOP_ALGORITHMS as readonly unknown[]).includes(alg)) {
    throw new TypeError(`"dpop.alg" must be one of ${DPOP_ALGORITHMS.join(', ')}`);
  }
  if (key === null || (key !== undefined && typeof key !== 'object' && typeof key !== 'string')) {
    throw new TypeError(
      '"dpop.key" must be a CryptoKeyPair, a private JWK, a PKCS#8 PEM or a private KeyObject',
    );
  }
  return dpopKey(key, alg);
}
