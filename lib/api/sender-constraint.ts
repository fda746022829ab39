/**
 * `bearer({ profile: 'fapi2' })` accepts sender-constrained tokens only (FAPI 2.0 §5.3.4 (5)): a token
 * bound to a DPoP key (`cnf.jkt`: the DPoP gate then demands the DPoP scheme and checks the proof) or,
 * with `mtls`, to a TLS client certificate (`cnf.x5t#S256`: `bearer({ mtls })` checks that the
 * connection's certificate is that one). An unbound token is refused as `invalid_token` once it has
 * been verified, so that a forged one is still refused for what is wrong with it.
 */
import type { BearerConfig } from '../config/bearer.js';
import { InvalidTokenError } from '../errors.js';
import type { AuthResult } from '../protocol/auth-result.js';
import { refuse, shown } from '../protocol/bearer-refusal.js';
import type { DpopGate } from './dpop.js';

function confirmation(auth: AuthResult): Record<string, unknown> | undefined {
  const cnf: unknown = auth.payload.cnf;
  return typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>) : undefined;
}

function isBound(cnf: Record<string, unknown> | undefined, mtls: boolean): boolean {
  const jkt = cnf?.['jkt'];
  const x5t = cnf?.['x5t#S256'];
  return (typeof jkt === 'string' && jkt !== '') || (mtls && typeof x5t === 'string' && x5t !== '');
}

/** The DPoP gate, and before its binding checks, the profile's: no unbound token passes. */
export function withSenderConstraint(config: BearerConfig, gate: DpopGate): DpopGate {
  const { profile, realm } = config;
  if (profile === undefined) return gate;
  const expected = profile.mtls ? ['jkt', 'x5t#S256'] : ['jkt'];
  return {
    offer: (req) => gate.offer(req),
    admit: (req, credentials) => gate.admit(req, credentials),
    bind(req, res, auth, credentials) {
      const cnf = confirmation(auth);
      if (!isBound(cnf, profile.mtls)) {
        throw refuse(
          new InvalidTokenError(
            'the token is not sender-constrained: this API accepts only DPoP-bound or certificate-bound tokens',
            { realm },
          ),
          { reason: 'unbound', expected, received: cnf === undefined ? null : shown(Object.keys(cnf)) },
        );
      }
      return gate.bind(req, res, auth, credentials);
    },
  };
}
