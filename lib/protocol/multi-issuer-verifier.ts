/**
 * `bearer({ issuers })`: one token verifier per IdP, the token's `iss` choosing which, as named steps:
 *
 *   cached          the verdict cache all issuers share: a hit needs none of the steps below
 *   checkLength     longer than `maxTokenLength`: refused unread
 *   decode          a compact JWS (an opaque token has no `iss` to route by: refused)
 *   selectIssuer    the configured issuer its `iss` (and `tid`) names, from the claims alone; none:
 *                   `invalid_token`, and nothing is fetched (issuer-selection.ts)
 *   verify          by that issuer's own verifier (token-verifier.ts): its discovery, JWKS cache and
 *                   cooldown, audience and tenants, created on its first token
 */
import type { BearerConfig } from '../config/bearer.js';
import type { BearerIssuerConfig } from '../config/bearer-issuers.js';
import { InvalidTokenError } from '../errors.js';
import type { AuthResult } from './auth-result.js';
import { refuse, shown } from './bearer-refusal.js';
import { issuerNames, selectIssuer } from './issuer-selection.js';
import { decodeJws, looksLikeJws } from './jwt-decode.js';
import {
  cachedVerdicts,
  checkTokenLength,
  createTokenVerifier,
  createVerdictCache,
  type TokenVerifier,
  type VerifierHooks,
} from './token-verifier.js';

export function createMultiIssuerVerifier(
  config: BearerConfig,
  entries: readonly BearerIssuerConfig[],
  now: () => number = Date.now,
  hooks: VerifierHooks = {},
): TokenVerifier {
  const realm = config.realm;
  const verifiers = new Map<number, TokenVerifier>();
  const expected = issuerNames(entries);
  // One cache for every issuer: a hit needs no decoding to find the issuer (the token itself finds its verdict).
  const shared = { ...hooks, cache: hooks.cache ?? createVerdictCache(config) };
  const cached = cachedVerdicts(shared.cache, config.maxTokenLength, now);

  function verifierOf(index: number): TokenVerifier {
    let verifier = verifiers.get(index);
    if (verifier === undefined) {
      verifier = createTokenVerifier(
        { ...config, ...entries[index]!, issuerConfigs: undefined },
        now,
        shared,
      );
      verifiers.set(index, verifier);
    }
    return verifier;
  }

  function verifyFresh(token: string): AuthResult | Promise<AuthResult> {
    checkTokenLength(token, config);
    if (!looksLikeJws(token)) {
      throw refuse(new InvalidTokenError('the token is not a JWT', { realm }), { reason: 'opaque' });
    }
    const { payload } = decodeJws(token, realm);
    const index = selectIssuer(entries, payload);
    if (index === -1) {
      throw refuse(new InvalidTokenError('unexpected "iss" claim', { realm }), {
        reason: 'iss',
        expected,
        received: shown(payload.iss),
        hint: 'no issuer in "issuers" is this token\'s "iss", so it was refused without any request: add the IdP to issuers if this API should accept it',
      });
    }
    return verifierOf(index).verifyFresh(token);
  }

  return { cached, verifyFresh, verify: (token) => cached(token) ?? verifyFresh(token) };
}
