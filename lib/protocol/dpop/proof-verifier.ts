/**
 * Checking a DPoP proof at a resource server (RFC 9449 §4.3 and §7), without Express. The steps,
 * in the order they run, each failing with a description that names it:
 *
 *  1. `parseProof`     one compact JWS of bounded length, JSON header and payload
 *  2. `checkHeader`    `typ` is `dpop+jwt`, `alg` in the allow-list (asymmetric only), no `crit`
 *  3. `publicKeyOf`    `jwk` is a public key only (no `d` or other private member) that fits `alg`
 *  4. signature        verified with that embedded key (`node:crypto`, keys imported once per thumbprint)
 *  5. `checkClaims`    `jti`, `htm` = the request's method, `htu` = the request's URL (without
 *                      query and fragment), `iat` within the window, `ath` = hash of the access token
 *  6. binding          the key's RFC 7638 thumbprint equals the token's `cnf.jkt` (`invalid_token`)
 *  7. nonce            when nonces are on, `nonce` is the current or the previous one (`use_dpop_nonce`)
 *  8. replay           `jti` (with the thumbprint) not seen within the window
 *
 * Why not jose's `jwtVerify(proof, EmbeddedJWK)`: it imports the key and verifies through WebCrypto
 * on every call (asynchronous, ~3x the CPU for ES256; see bench/bearer/micro.ts). The checks jose
 * makes are all made here.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { InvalidTokenError } from '../../errors.js';
import { type AsymmetricAlgorithm, keyShapeOf } from '../algorithms.js';
import { refuse } from '../bearer-refusal.js';
import { type DecodedJws, decodeJws } from '../jwt-decode.js';
import { tokenHash } from '../token-cache.js';
import { verifyAsymmetric } from '../verify-signature.js';
import { InvalidDpopProofError, UseDpopNonceError } from './errors.js';
import { accessTokenHash, jwkThumbprint, THUMBPRINT_MEMBERS } from './jwk.js';
import type { DpopNonceSource } from './nonce-source.js';
import type { DpopReplayStore } from './replay-cache.js';

export interface DpopProofSettings {
  readonly algorithms: ReadonlySet<AsymmetricAlgorithm>;
  /** Seconds a proof's `iat` may differ from now, either way (plus `clockTolerance`). */
  readonly iatWindow: number;
  readonly clockTolerance: number;
  readonly realm: string;
  readonly nonces: DpopNonceSource | undefined;
  readonly replay: DpopReplayStore;
}

/** What the request says, to compare the proof with. */
export interface DpopRequest {
  readonly method: string;
  /** The request's URL as {@link normalizeHtu} returns it, built from the configured base URL. */
  readonly htu: string;
  readonly accessToken: string;
  /** The access token's `cnf.jkt`. */
  readonly jkt: string;
}

export interface VerifiedDpopProof {
  /** The proof key's thumbprint (equal to the token's `cnf.jkt`). */
  readonly jkt: string;
  /** The nonce the client should use from now on, when it used the previous one. */
  readonly nextNonce: string | undefined;
}

export interface DpopProofVerifier {
  /**
   * Check `proof` against `request`; throws (or rejects with) `invalid_dpop_proof`, `invalid_token`
   * or `use_dpop_nonce`. Asynchronous only when the replay store is (a shared one).
   */
  verify(proof: string, request: DpopRequest, now: number): VerifiedDpopProof | Promise<VerifiedDpopProof>;
}

const MAX_PROOF_LENGTH = 8192;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const KEY_CACHE_MAX_ENTRIES = 1000;

/**
 * `scheme://host[:port]/path` of a URL, without query and fragment (RFC 9449 §4.3 step 9), with the
 * syntax-based normalisation of the WHATWG URL parser (case of scheme and host, default port, dot
 * segments). `undefined` for anything that is not an absolute http(s) URL.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export function createDpopProofVerifier(settings: DpopProofSettings): DpopProofVerifier {
  const { realm } = settings;
  function fail(description: string): never {
    throw new InvalidDpopProofError(description, { realm });
  }
  // Imported keys by thumbprint: a client signs every proof with the same key.
  const keys = new Map<string, KeyObject>();

  function parseProof(proof: string): DecodedJws {
    if (proof.length > MAX_PROOF_LENGTH) fail('the DPoP proof is too long');
    try {
      return decodeJws(proof, realm);
    } catch (err) {
      // The same shape checks as for tokens, reported as what they are here.
      return fail((err as Error).message.replace(/^the token/, 'the DPoP proof'));
    }
  }

  function checkHeader(header: Record<string, unknown>): AsymmetricAlgorithm {
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : undefined;
    if (typ !== 'dpop+jwt' && typ !== 'application/dpop+jwt') fail('the DPoP proof\'s "typ" is not dpop+jwt');
    const alg = header.alg;
    if (typeof alg !== 'string' || !settings.algorithms.has(alg as AsymmetricAlgorithm)) {
      fail('the DPoP proof\'s "alg" is not allowed');
    }
    if (header.crit !== undefined) fail('the DPoP proof has a "crit" header we do not understand');
    return alg as AsymmetricAlgorithm;
  }

  function publicKeyOf(jwk: unknown, alg: AsymmetricAlgorithm): { key: KeyObject; jkt: string } {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
      return fail('the DPoP proof has no "jwk" header');
    }
    const members = jwk as Record<string, unknown>;
    if (PRIVATE_MEMBERS.some((name) => name in members))
      fail('the DPoP proof\'s "jwk" contains a private key');
    const shape = keyShapeOf(alg);
    if (members.kty !== shape.kty || (shape.crv !== undefined && members.crv !== shape.crv)) {
      fail('the DPoP proof\'s "jwk" does not fit its "alg"');
    }
    const required = THUMBPRINT_MEMBERS[shape.kty]!;
    const publicJwk: Record<string, string> = {};
    for (const name of required) {
      const value = members[name];
      if (typeof value !== 'string' || value === '') return fail('the DPoP proof\'s "jwk" is incomplete');
      publicJwk[name] = value;
    }
    // The thumbprint covers exactly the members the key is imported from, so it names the key.
    const jkt = jwkThumbprint(publicJwk);
    let key = keys.get(jkt);
    if (key === undefined) {
      try {
        key = createPublicKey({ key: publicJwk, format: 'jwk' });
      } catch {
        return fail('the DPoP proof\'s "jwk" is not a valid key');
      }
      if (keys.size >= KEY_CACHE_MAX_ENTRIES) keys.delete(keys.keys().next().value as string);
      keys.set(jkt, key);
    }
    return { key, jkt };
  }

  function checkClaims(payload: Record<string, unknown>, request: DpopRequest, now: number): number {
    const { jti, htm, htu, iat, ath } = payload;
    if (typeof jti !== 'string' || jti === '' || jti.length > 256) fail('the DPoP proof has no valid "jti"');
    if (htm !== request.method) fail('the DPoP proof\'s "htm" does not match the request method');
    if (typeof htu !== 'string' || (htu !== request.htu && normalizeHtu(htu) !== request.htu)) {
      fail('the DPoP proof\'s "htu" does not match the request URL');
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) return fail('the DPoP proof has no valid "iat"');
    const leeway = settings.iatWindow + settings.clockTolerance;
    const seconds = now / 1000;
    if (iat < seconds - leeway) fail('the DPoP proof is too old ("iat")');
    if (iat > seconds + leeway) fail('the DPoP proof is issued in the future ("iat")');
    if (ath === undefined) fail('the DPoP proof has no "ath" (hash of the access token)');
    if (ath !== accessTokenHash(request.accessToken))
      fail('the DPoP proof\'s "ath" does not match the access token');
    return iat;
  }

  function checkNonce(nonce: unknown, now: number): string | undefined {
    const nonces = settings.nonces;
    if (nonces === undefined) return undefined;
    const verdict = nonces.check(nonce, now);
    if (verdict === undefined) {
      const description =
        nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP proof\'s "nonce" is not current';
      throw new UseDpopNonceError(description, nonces.current(now), { realm });
    }
    return verdict === 'previous' ? nonces.current(now) : undefined;
  }

  return {
    verify(proof, request, now) {
      const { header, payload, signingInput, signature } = parseProof(proof);
      const alg = checkHeader(header as Record<string, unknown>);
      const { key, jkt } = publicKeyOf(header.jwk, alg);
      if (!verifyAsymmetric(alg, key, Buffer.from(signingInput), signature)) {
        fail("the DPoP proof's signature does not verify");
      }
      const claims = payload as Record<string, unknown>;
      const iat = checkClaims(claims, request, now);
      if (jkt !== request.jkt) {
        throw refuse(
          new InvalidTokenError("the DPoP proof's key does not match the token's binding (cnf.jkt)", {
            realm,
          }),
          { reason: 'dpop', hint: 'the proof was signed by another key than the one the token is bound to' },
        );
      }
      const nextNonce = checkNonce(claims.nonce, now);
      const expiresAt = (iat + settings.iatWindow + settings.clockTolerance) * 1000;
      const verified: VerifiedDpopProof = { jkt, nextNonce };
      const fresh = settings.replay.admit(tokenHash(`${claims.jti as string} ${jkt}`), expiresAt, now);
      const replayed = () => fail('the DPoP proof was already used ("jti" replayed)');
      if (fresh instanceof Promise) return fresh.then((ok) => (ok ? verified : replayed()));
      return fresh ? verified : replayed();
    },
  };
}
