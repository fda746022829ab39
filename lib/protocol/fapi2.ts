/**
 * The FAPI 2.0 Security Profile (OpenID Foundation, final, February 2025), as data: its rules, each
 * with a stable id and the section that states it, and what it asks of a client's protocol steps.
 * `lib/config/fapi2*.ts` holds the rules about options (start-up TypeErrors); this file the rules the
 * IdP's metadata must meet (ERR_IDP_INCOMPATIBLE, at the first login or token request) and the
 * checks of the sign-in flow:
 *
 *   checkIdp              the IdP offers what the profile needs: PAR, PKCE S256, the client's
 *                         authentication method and algorithm, DPoP with the client's proof algorithm
 *                         (or certificate-bound tokens), ID tokens in one of the profile's algorithms
 *   authResponseMetadata  the authorization response must carry `iss` (RFC 9207), whatever the
 *                         IdP's metadata says (oauth4webapi requires it when the metadata says so),
 *                         and a JWT response (JARM) be signed with one of the profile's algorithms
 *   idTokenAlgorithms     ID and logout tokens: PS256, ES256 or EdDSA, never another
 *   checkIdTokenClaims    an ID token issued (`iat`) further in the future than `clockTolerance`
 *                         (10 to 60 s under the profile) is refused; jose and oauth4webapi check `nbf`
 *
 * @see https://openid.net/specs/fapi-security-profile-2_0-final.html
 */
import type * as oauth from 'oauth4webapi';
import { PortcullisError } from '../errors.js';
import { withRefusal } from './oidc-refusal.js';

/** §5.4.1 (1) 2: PS256, ES256, EdDSA with Ed25519, and its fully-specified name (the section's note). */
export const FAPI2_ALGORITHMS = ['PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;

/** What the profile requires, by rule id: the requirement in a few words, and the section saying so. */
export const FAPI2_RULES = {
  'fapi2-tls': {
    section: '5.2.1 (1)',
    requirement: 'connections to other servers only over TLS (https)',
  },
  'fapi2-redirect-uri': {
    section: '5.3.2.2 (8)',
    requirement: 'no "http" redirect URI, but for a loopback host',
  },
  'fapi2-par': { section: '5.3.3.2 (2)', requirement: 'pushed authorization requests (RFC 9126)' },
  'fapi2-pkce': { section: '5.3.3.2 (3)', requirement: 'PKCE with S256' },
  'fapi2-iss': {
    section: '5.3.3.2 (5)',
    requirement: 'the "iss" parameter of the authorization response checked (RFC 9207)',
  },
  'fapi2-client-auth': {
    section: '5.3.3.1 (2)',
    requirement: 'client authentication by private_key_jwt or mTLS (RFC 8705), never a client secret',
  },
  'fapi2-sender-constrained': {
    section: '5.3.3.1 (1), 5.3.4 (5)',
    requirement: 'sender-constrained access tokens only: DPoP (RFC 9449) or mTLS (RFC 8705)',
  },
  'fapi2-header-tokens': {
    section: '5.3.4 (1), (2)',
    requirement: 'access tokens in the Authorization header only, never in the query or the body',
  },
  'fapi2-algorithms': {
    section: '5.4.1 (1)',
    requirement: 'JWTs signed PS256, ES256 or EdDSA (Ed25519) only',
  },
  'fapi2-key-size': { section: '5.4.1 (2)', requirement: 'RSA keys of 2048 bits or more' },
  'fapi2-clock': {
    section: '5.3.2.1 (13)',
    requirement: 'a JWT issued up to 10 s in the future accepted, more than 60 s in the future refused',
  },
} as const;

export type Fapi2RuleId = keyof typeof FAPI2_RULES;

/** Where a rule comes from, as messages end: `(rule "fapi2-par": ..., FAPI 2.0 Security Profile §5.3.3.2 (2))`. */
export function ruleReference(id: Fapi2RuleId): string {
  const { requirement, section } = FAPI2_RULES[id];
  return `(profile "fapi2", rule "${id}": ${requirement}; FAPI 2.0 Security Profile §${section})`;
}

/** What a client under the profile does, as far as the IdP must support it. */
export interface Fapi2Client {
  /** Sign-in (authorization code flow) or the service agent (client credentials). */
  readonly flow: 'authorization_code' | 'client_credentials';
  /** `private_key_jwt`, `tls_client_auth` or `self_signed_tls_client_auth`. */
  readonly clientAuthMethod: string;
  /** With private_key_jwt: the client assertion's algorithm. */
  readonly assertionAlg: string | undefined;
  /** The DPoP proofs' algorithm, when tokens are bound by DPoP. */
  readonly dpopAlg: string | undefined;
  /** Tokens bound to the TLS client certificate (RFC 8705 §3). */
  readonly mtlsBound: boolean;
}

/** What a security profile asks of the relying party's protocol steps, beyond what they always do. */
export interface ClientProfile {
  /** Throws ERR_IDP_INCOMPATIBLE, naming the rule and the metadata field, when the IdP falls short. */
  checkIdp(as: oauth.AuthorizationServer): void;
  /** The metadata the authorization response is checked against: `iss` required, JARM's algorithms narrowed. */
  authResponseMetadata<T extends oauth.AuthorizationServer>(as: T): T;
  /** The algorithms accepted for ID and logout tokens, from those the IdP advertises. */
  idTokenAlgorithms(algorithms: readonly string[]): string[];
  /** Claims checks of a verified ID token that jose and oauth4webapi leave out. */
  checkIdTokenClaims(claims: Readonly<Record<string, unknown>>, clockTolerance: number): void;
}

/** One of the profile's algorithms. */
export const isFapiAlg = (alg: unknown): boolean => (FAPI2_ALGORITHMS as readonly unknown[]).includes(alg);
const listed = (value: unknown): readonly unknown[] | undefined => (Array.isArray(value) ? value : undefined);

interface IdpRule {
  readonly id: Fapi2RuleId;
  readonly flows: readonly Fapi2Client['flow'][];
  /** What the metadata lacks, naming its field; `undefined` when it offers what the client needs. */
  readonly check: (as: oauth.AuthorizationServer, client: Fapi2Client) => string | undefined;
}

const BOTH = ['authorization_code', 'client_credentials'] as const;

/** The IdP's side of each rule, as RFC 8414 and RFC 9449 metadata say it (an absent list has its default). */
export const FAPI2_IDP_RULES: readonly IdpRule[] = [
  {
    id: 'fapi2-par',
    flows: ['authorization_code'],
    check: (as) =>
      as.pushed_authorization_request_endpoint === undefined
        ? 'its metadata has no "pushed_authorization_request_endpoint"'
        : undefined,
  },
  {
    id: 'fapi2-pkce',
    flows: ['authorization_code'],
    // RFC 8414 §2: omitted means the server does not support PKCE.
    check: (as) =>
      listed(as.code_challenge_methods_supported)?.includes('S256')
        ? undefined
        : 'its "code_challenge_methods_supported" does not list S256',
  },
  {
    id: 'fapi2-client-auth',
    flows: BOTH,
    check: (as, client) => {
      // RFC 8414 §2: omitted means client_secret_basic only.
      const methods = listed(as.token_endpoint_auth_methods_supported) ?? ['client_secret_basic'];
      if (!methods.includes(client.clientAuthMethod)) {
        return `its "token_endpoint_auth_methods_supported" does not list ${client.clientAuthMethod}`;
      }
      const algs = listed(as.token_endpoint_auth_signing_alg_values_supported);
      const alg = client.assertionAlg;
      return alg !== undefined && algs !== undefined && !algs.includes(alg)
        ? `its "token_endpoint_auth_signing_alg_values_supported" does not list ${alg}, the client assertion's algorithm`
        : undefined;
    },
  },
  {
    id: 'fapi2-sender-constrained',
    flows: BOTH,
    check: (as, client) => {
      if (client.dpopAlg !== undefined) {
        const algs = listed(as.dpop_signing_alg_values_supported);
        if (algs === undefined)
          return 'its metadata has no "dpop_signing_alg_values_supported": it takes no DPoP';
        if (!algs.includes(client.dpopAlg)) {
          return `its "dpop_signing_alg_values_supported" does not list ${client.dpopAlg}, the DPoP proofs' algorithm`;
        }
      }
      return client.mtlsBound && as.tls_client_certificate_bound_access_tokens !== true
        ? 'its metadata does not say "tls_client_certificate_bound_access_tokens": true'
        : undefined;
    },
  },
  {
    id: 'fapi2-algorithms',
    flows: ['authorization_code'],
    // OpenID Connect Discovery §3 makes the list required; RS256 is what an IdP without it signs with.
    check: (as) => {
      const algs = listed(as.id_token_signing_alg_values_supported) ?? ['RS256'];
      return algs.some(isFapiAlg)
        ? undefined
        : `its "id_token_signing_alg_values_supported" (${algs.join(', ')}) has none of ${FAPI2_ALGORITHMS.join(', ')}`;
    },
  },
];

/** The algorithms a JWT response (JARM) may be signed with: the IdP's (RS256 by default), the profile's only. */
function jarmAlgorithms(as: oauth.AuthorizationServer): string[] {
  return (as.authorization_signing_alg_values_supported ?? ['RS256']).filter(isFapiAlg);
}

/** The IdP's metadata falls short of a rule: a configuration mismatch, not the user's fault. */
export function idpIncompatible(
  as: oauth.AuthorizationServer,
  id: Fapi2RuleId,
  problem: string,
): PortcullisError {
  return new PortcullisError(
    'ERR_IDP_INCOMPATIBLE',
    `the IdP ${as.issuer} cannot be used with profile "fapi2": ${problem} ${ruleReference(id)}. Enable it at the IdP, or use another IdP`,
    { status: 500 },
  );
}

/** FAPI 2.0 for one client of one IdP. */
export function fapi2ClientProfile(client: Fapi2Client): ClientProfile {
  const rules = FAPI2_IDP_RULES.filter((rule) => rule.flows.includes(client.flow));
  return Object.freeze({
    checkIdp(as: oauth.AuthorizationServer) {
      for (const rule of rules) {
        const problem = rule.check(as, client);
        if (problem !== undefined) throw idpIncompatible(as, rule.id, problem);
      }
    },
    authResponseMetadata: <T extends oauth.AuthorizationServer>(as: T): T => ({
      ...as,
      authorization_response_iss_parameter_supported: true,
      // A JWT response (JARM) is a JWT too: the profile's algorithms only (RS256 when none is advertised).
      authorization_signing_alg_values_supported: jarmAlgorithms(as),
    }),
    idTokenAlgorithms: (algorithms: readonly string[]) => algorithms.filter(isFapiAlg),
    checkIdTokenClaims(claims: Readonly<Record<string, unknown>>, clockTolerance: number) {
      const iat = claims['iat'];
      const now = Date.now() / 1000;
      if (typeof iat === 'number' && iat > now + clockTolerance) {
        const err = new PortcullisError(
          'ERR_ID_TOKEN_INVALID',
          `ID token: issued in the future ("iat"), beyond clockTolerance ${ruleReference('fapi2-clock')}`,
          { status: 400 },
        );
        throw withRefusal(err, { reason: 'iat', received: iat, now: Math.floor(now) });
      }
    },
  });
}
