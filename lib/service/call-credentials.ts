/**
 * What a call to a resource server carries: `Authorization: Bearer <token>`, or with DPoP
 * `Authorization: DPoP <token>` and a fresh proof (RFC 9449 §7) for the call's method and URL, with
 * `ath` and the origin's latest nonce. Shared by `fetch()` and `attach()`, so that both send and
 * retry the same way.
 */
import * as oauth from 'oauth4webapi';
import { PortcullisError } from '../errors.js';
import type { DpopKey } from '../protocol/dpop/key-pair.js';
import { DpopNonces, headerValue, isUseDpopNonceChallenge } from '../protocol/dpop/nonce-memory.js';
import { createDpopProof } from '../protocol/dpop/proof.js';
import { safeCause } from '../protocol/http.js';
import type { CachedToken } from './token-cache.js';

/** The headers of one call, and the nonce its proof carried (to tell a new nonce from the same). */
export interface PreparedCall {
  readonly headers: Readonly<Record<string, string>>;
  readonly nonce: string | undefined;
}

export interface CallCredentials {
  /**
   * Whether every call needs work of its own (a DPoP proof for its method and URL, signed
   * asynchronously). Without it the header is `Bearer <token>`, made on the spot: `attach()` and
   * `fetch()` then take their synchronous fast path and never compute the call's URL.
   */
  readonly perCall: boolean;
  /** The headers for one call with `token`: always a fresh proof with DPoP. */
  prepare(token: CachedToken, method: string, url: string): Promise<PreparedCall>;
  /**
   * Look at an answer: keep its `DPoP-Nonce` (successes too), and say whether it is a
   * `use_dpop_nonce` challenge with a nonce other than the one sent: worth exactly one retry.
   */
  wantsNonceRetry(url: string, status: number, headers: unknown, sentNonce: string | undefined): boolean;
}

export const bearerCredentials: CallCredentials = {
  perCall: false,
  async prepare(token) {
    return { headers: { authorization: `Bearer ${token.access_token}` }, nonce: undefined };
  },
  wantsNonceRetry: () => false,
};

/** Resource servers whose nonces one agent remembers; the least recently used beyond are forgotten. */
const MAX_NONCE_ORIGINS = 100;

/** The DPoP side of an agent: its key, oauth4webapi's handle for the token endpoint, and call proofs. */
export interface AgentDpop extends CallCredentials {
  readonly key: DpopKey;
  /** oauth4webapi's handle (it keeps the IdP's nonces), made once per agent. */
  handle(): Promise<oauth.DPoPHandle>;
}

export function agentDpop(key: DpopKey, client: oauth.Client): AgentDpop {
  const nonces = new DpopNonces(MAX_NONCE_ORIGINS);
  let handle: Promise<oauth.DPoPHandle> | undefined;
  return {
    key,
    perCall: true,
    handle() {
      handle ??= key.keyPair().then((pair) => oauth.DPoP(client, pair));
      return handle;
    },
    async prepare(token, method, url) {
      // A Bearer token (from a cache written before DPoP was turned on) goes out as Bearer.
      if (token.token_type.toLowerCase() !== 'dpop') return bearerCredentials.prepare(token, method, url);
      const nonce = nonces.get(url);
      let proof: string;
      try {
        proof = await createDpopProof({
          privateKey: await key.signingKey(),
          publicJwk: key.publicJwk,
          alg: key.alg,
          htm: method,
          htu: url,
          accessToken: token.access_token,
          nonce,
        });
      } catch (err) {
        // The cause names the failure (a key the platform cannot sign with), never the key.
        throw new PortcullisError('ERR_DPOP_PROOF_FAILED', 'could not sign a DPoP proof', {
          status: 500,
          cause: safeCause(err),
        });
      }
      return { headers: { authorization: `DPoP ${token.access_token}`, dpop: proof }, nonce };
    },
    wantsNonceRetry(url, status, headers, sentNonce) {
      const nonce = nonces.remember(url, headers);
      if (!isUseDpopNonceChallenge(status, headerValue(headers, 'www-authenticate'))) return false;
      return nonce !== undefined && nonce !== sentNonce;
    },
  };
}
