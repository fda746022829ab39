/**
 * `profile: 'fapi2'`: each product's options under the FAPI 2.0 Security Profile. What the profile
 * requires is turned on when left unset (PAR, DPoP unless the tokens are bound by mTLS, PS256 for an
 * RSA key, the profile's algorithms and clock at an API), then every rule of fapi2-rules.ts is
 * checked: an option that conflicts is one start-up TypeError naming the option, the rule and the
 * section of the profile. What the IdP must offer is checked at the first login or token request
 * (lib/protocol/fapi2.ts).
 *
 * @see https://openid.net/specs/fapi-security-profile-2_0-final.html
 */
import { createPrivateKey, KeyObject } from 'node:crypto';
import type { ClientAuthConfig } from '../protocol/client-auth.js';
import type { DpopKey } from '../protocol/dpop/key-pair.js';
import { SESSION_DPOP_ALGORITHM } from '../protocol/dpop/session-keys.js';
import {
  type ClientProfile,
  FAPI2_ALGORITHMS,
  fapi2ClientProfile,
  ruleReference,
} from '../protocol/fapi2.js';
import {
  apiChecksMtls,
  BEARER_RULES,
  CLIENT_KEY_RULES,
  CLIENT_RULES,
  IDP_RULES,
  mtlsBoundClient,
  type OptionRule,
  type Options,
  SERVICE_KEY_RULES,
  SERVICE_RULES,
  SIGNIN_RULES,
  type View,
} from './fapi2-rules.js';

/** The security profiles a product can follow. */
export type SecurityProfile = 'fapi2';

/** What `bearer()` keeps of its profile: the tokens it accepts must be sender-constrained. */
export interface ApiProfile {
  readonly name: SecurityProfile;
  /** Certificate-bound tokens (`cnf.x5t#S256`) count, `bearer({ mtls })` checking their binding. */
  readonly mtls: boolean;
}

/** The `profile` option: `'fapi2'` or nothing. */
export function checkProfile(value: unknown, envName: string): SecurityProfile | undefined {
  if (value === undefined) return undefined;
  if (value !== 'fapi2') {
    throw new TypeError(
      `"profile" must be "fapi2" (the FAPI 2.0 Security Profile), or unset (or the ${envName} environment variable)`,
    );
  }
  return value;
}

function enforce(product: string, rules: readonly OptionRule<View>[], view: View): void {
  for (const rule of rules) {
    const problem = rule.check(view);
    if (problem !== undefined) throw new TypeError(`${product}: ${problem} ${ruleReference(rule.id)}`);
  }
}

/** An RSA private key, told apart cheaply; anything unreadable is left to the client-auth checks. */
function isRsaKey(key: unknown): boolean {
  try {
    if (key instanceof KeyObject) return key.asymmetricKeyType?.startsWith('rsa') === true;
    if (typeof key === 'string') {
      const text = key.trim();
      if (text.startsWith('{')) return (JSON.parse(text) as { kty?: unknown }).kty === 'RSA';
      return createPrivateKey(text).asymmetricKeyType?.startsWith('rsa') === true;
    }
    return typeof key === 'object' && key !== null && (key as { kty?: unknown }).kty === 'RSA';
  } catch {
    return false;
  }
}

/** An RSA key signs its client assertions PS256: RS256, its default elsewhere, is not allowed. */
function clientDefaults<T extends object>(options: T): T {
  const o = options as Options;
  if (o['clientAssertionSigningAlg'] !== undefined || !isRsaKey(o['clientAssertionSigningKey']))
    return options;
  return { ...options, clientAssertionSigningAlg: 'PS256' };
}

/**
 * `auth()`: its own rules (and, for a classic config, its single client's), then the defaults every
 * provider takes: PAR, and DPoP unless a TLS client certificate binds the tokens.
 */
export function signinProfile<T extends object>(options: T, { classic }: { classic: boolean }): T {
  const o = options as Options;
  if (checkProfile(o['profile'], 'AUTH_PROFILE') === undefined) return options;
  enforce('auth()', [...SIGNIN_RULES, ...IDP_RULES, ...(classic ? CLIENT_RULES : [])], {
    options: o,
    path: '',
  });
  return {
    ...options,
    pushedAuthorizationRequests: o['pushedAuthorizationRequests'] ?? true,
    dpop: o['dpop'] ?? !mtlsBoundClient(o),
  };
}

/** One provider of `auth()`, before its client is validated: its own rules, and PS256 for an RSA key. */
export function providerOptions<T extends object>(
  profile: SecurityProfile | undefined,
  options: T,
  path: string,
): T {
  if (profile === undefined) return options;
  enforce('auth()', [...IDP_RULES, ...CLIENT_RULES], { options: options as Options, path });
  return clientDefaults(options);
}

/** One provider of `auth()`, its client validated: the key's rules, and what its logins check. */
export function providerProfile(
  profile: SecurityProfile | undefined,
  options: object,
  { client, dpop, path }: { client: ClientAuthConfig; dpop: boolean; path: string },
): ClientProfile | undefined {
  if (profile === undefined) return undefined;
  enforce('auth()', CLIENT_KEY_RULES, { options: options as Options, path, client });
  return fapi2ClientProfile({
    flow: 'authorization_code',
    clientAuthMethod: client.method,
    assertionAlg: client.signingAlg,
    dpopAlg: dpop ? SESSION_DPOP_ALGORITHM : undefined,
    mtlsBound: mtlsBoundClient(options as Options),
  });
}

/** `serviceAgent()`, before validation: its rules, DPoP unless mTLS binds the tokens, PS256 for an RSA key. */
export function serviceOptions<T extends object>(options: T): T {
  const o = options as Options;
  if (checkProfile(o['profile'], 'SERVICE_PROFILE') === undefined) return options;
  enforce('serviceAgent()', SERVICE_RULES, { options: o, path: '' });
  return clientDefaults({ ...options, dpop: o['dpop'] ?? !mtlsBoundClient(o) });
}

/** `serviceAgent()`, validated: its keys' rules, and what its token requests check of the IdP. */
export function serviceProfile(
  options: object,
  client: ClientAuthConfig,
  dpopKey: DpopKey | undefined,
): ClientProfile | undefined {
  const o = options as Options;
  if (checkProfile(o['profile'], 'SERVICE_PROFILE') === undefined) return undefined;
  enforce('serviceAgent()', SERVICE_KEY_RULES, { options: o, path: '', client, dpopKey });
  return fapi2ClientProfile({
    flow: 'client_credentials',
    clientAuthMethod: client.method,
    assertionAlg: client.signingAlg,
    dpopAlg: dpopKey?.alg,
    mtlsBound: mtlsBoundClient(o),
  });
}

/** Proofs up to 60 s ahead with the default `clockTolerance` of 10 (see the fapi2-clock rule). */
const PROOF_IAT_WINDOW = 50;

/**
 * `bearer()`: the profile's algorithms for tokens and proofs, its clock, then its rules. Fills the
 * options in place (they are bearer()'s own copy); `undefined` without the profile.
 */
export function bearerProfile(o: Record<string, unknown>): ApiProfile | undefined {
  if (checkProfile(o['profile'], 'API_PROFILE') === undefined) return undefined;
  if (o['secret'] === undefined) o['algorithms'] ??= [...FAPI2_ALGORITHMS];
  o['clockTolerance'] ??= 10;
  if (o['dpop'] !== false && o['baseURL'] !== undefined) {
    const given = typeof o['dpop'] === 'object' && o['dpop'] !== null ? (o['dpop'] as Options) : {};
    o['dpop'] = {
      ...given,
      algorithms: given['algorithms'] ?? [...FAPI2_ALGORITHMS],
      iatWindow: given['iatWindow'] ?? PROOF_IAT_WINDOW,
    };
  }
  enforce('bearer()', BEARER_RULES, { options: o, path: '' });
  return Object.freeze({ name: 'fapi2', mtls: apiChecksMtls(o) });
}
