/**
 * The errors of DPoP at the API (RFC 9449 §7.1, §9): like RFC 6750's, each carries its status,
 * `error` code and description; the API glue turns them into a `DPoP` challenge (with `algs`) and,
 * for {@link UseDpopNonceError}, a `DPoP-Nonce` header. Descriptions name the failed check, never
 * the proof, the token or a claim's value.
 */
import { BearerChallengeError } from '../../errors.js';
import { refuse } from '../bearer-refusal.js';

/** 401 `invalid_dpop_proof`: the `DPoP` header is missing, doubled, malformed, or a check failed. */
export class InvalidDpopProofError extends BearerChallengeError {
  readonly error = 'invalid_dpop_proof' as const;
  constructor(description: string, options: { realm?: string | undefined } = {}) {
    super('ERR_INVALID_DPOP_PROOF', description, { status: 401, ...options });
    refuse(this, { reason: 'dpop', hint: 'the DPoP proof failed the check named' });
  }
}

/**
 * 401 `use_dpop_nonce` (RFC 9449 §9): the proof carries no nonce, or not a current one. The client
 * retries with `nonce` set to {@link UseDpopNonceError.nonce}, sent as the `DPoP-Nonce` header.
 */
export class UseDpopNonceError extends BearerChallengeError {
  readonly error = 'use_dpop_nonce' as const;
  /** The nonce to use: a public value, not a secret. */
  readonly nonce: string;
  constructor(description: string, nonce: string, options: { realm?: string | undefined } = {}) {
    super('ERR_USE_DPOP_NONCE', description, { status: 401, ...options });
    this.nonce = nonce;
    refuse(this, { reason: 'dpop', hint: 'the client must retry with the DPoP-Nonce sent (RFC 9449 §9)' });
  }
}
