/**
 * DPoP key pairs that must outlive a process (RFC 9449 §2): a signed-in user's tokens are bound to
 * one key for the whole session, and the session lives in a store that any process of a fleet may
 * read. The key is therefore kept as a JWK pair in the session store (server-side, never in a
 * cookie) and turned back into an oauth4webapi DPoP handle when a request needs it.
 *
 * A stored key is read back through the same checks as a key given to serviceAgent({ dpop })
 * (key-pair.ts). Importing it costs a WebCrypto round trip, and a handle remembers the servers'
 * DPoP nonces, so handles are kept per key thumbprint in a small LRU: a busy session signs its
 * proofs without re-importing and without being asked for a fresh nonce on every call.
 */
import { generateKeyPairSync } from 'node:crypto';
import type * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import { dpopKey } from './key-pair.js';

/** The DPoP key of one session, as stored. `jkt` is the RFC 7638 thumbprint of `publicJwk`. */
export interface StoredDpopKey {
  readonly privateJwk: jose.JWK;
  readonly publicJwk: jose.JWK;
  readonly jkt: string;
}

/** ES256 everywhere that supports DPoP, and RFC 9449's own examples use it. */
export const SESSION_DPOP_ALGORITHM = 'ES256';
/** Handles kept in memory; a session beyond this re-imports its key once. */
const MAX_HANDLES = 1000;

/** A fresh key pair for a new login. */
export function generateDpopKey(): StoredDpopKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = privateKey.export({ format: 'jwk' }) as jose.JWK;
  const key = dpopKey(privateJwk, SESSION_DPOP_ALGORITHM);
  return { privateJwk, publicJwk: key.publicJwk, jkt: key.thumbprint };
}

function isStoredKey(value: unknown): value is StoredDpopKey {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['jkt'] === 'string' &&
    typeof v['privateJwk'] === 'object' &&
    v['privateJwk'] !== null &&
    typeof v['publicJwk'] === 'object' &&
    v['publicJwk'] !== null
  );
}

/** The DPoP handles of one client's sessions, by key thumbprint. */
export class DpopKeyRing {
  readonly #client: Pick<oauth.Client, typeof oauth.clockSkew>;
  readonly #handles = new Map<string, oauth.DPoPHandle>();

  constructor(client: Pick<oauth.Client, typeof oauth.clockSkew>) {
    this.#client = client;
  }

  /**
   * The handle for a stored key, reused across requests. `undefined` when `stored` is not a usable
   * key (a damaged session): the caller then refuses, it never falls back to a Bearer request.
   */
  async handle(stored: unknown): Promise<oauth.DPoPHandle | undefined> {
    if (!isStoredKey(stored)) return undefined;
    const known = this.#handles.get(stored.jkt);
    if (known !== undefined) {
      this.#handles.delete(stored.jkt);
      this.#handles.set(stored.jkt, known);
      return known;
    }
    let handle: oauth.DPoPHandle;
    try {
      const key = dpopKey(stored.privateJwk, SESSION_DPOP_ALGORITHM);
      // The thumbprint names the handle in the LRU: it must be this key's, not whatever was stored.
      if (key.thumbprint !== stored.jkt) return undefined;
      handle = oauth.DPoP(this.#client, await key.keyPair());
    } catch {
      return undefined;
    }
    this.#handles.set(stored.jkt, handle);
    if (this.#handles.size > MAX_HANDLES) this.#handles.delete(this.#handles.keys().next().value as string);
    return handle;
  }
}
