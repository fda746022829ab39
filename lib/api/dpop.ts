/**
 * DPoP in `bearer()` (RFC 9449 §7): the Node glue around the proof verifier. It reads the one
 * `DPoP` header, builds the request's `htu` from the configured `baseURL` and the request's path
 * (never from the `Host` header), and ties the proof to the verified token's `cnf.jkt`. The token's
 * verdict may come from the verified-token cache; the proof is checked on every request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BearerConfig } from '../config/bearer.js';
import { InvalidTokenError, UnauthorizedError } from '../errors.js';
import type { AuthResult } from '../protocol/auth-result.js';
import { refuse } from '../protocol/bearer-refusal.js';
import { InvalidDpopProofError } from '../protocol/dpop/errors.js';
import { createDpopNonceSource } from '../protocol/dpop/nonce-source.js';
import { createDpopProofVerifier, normalizeHtu } from '../protocol/dpop/proof-verifier.js';
import { createDpopReplayCache } from '../protocol/dpop/replay-cache.js';
import { type DpopOffer, setDpopOffer, setScheme } from './challenge.js';
import type { Credentials } from './get-token.js';

export interface DpopGate {
  /** Before the token is verified: record the scheme, and refuse Bearer when DPoP is required. */
  admit(req: IncomingMessage, credentials: Credentials): void;
  /** After: the token's binding and, for the DPoP scheme, the proof. Returns what `req.auth` becomes. */
  /** The verdict with its DPoP binding checked; a promise only when the replay store is shared. */
  bind(
    req: IncomingMessage,
    res: ServerResponse,
    auth: AuthResult,
    credentials: Credentials,
  ): AuthResult | Promise<AuthResult>;
  /** Mark the request so that every challenge offers DPoP too (no-op when DPoP is off). */
  offer(req: IncomingMessage): void;
}

/** The token's `cnf.jkt` when it has one; `null` when it has a `cnf.jkt` that is not a string. */
function boundJkt(auth: AuthResult): string | null | undefined {
  const cnf: unknown = auth.payload.cnf;
  if (typeof cnf !== 'object' || cnf === null || !('jkt' in cnf)) return undefined;
  const jkt = (cnf as { jkt: unknown }).jkt;
  return typeof jkt === 'string' && jkt !== '' ? jkt : null;
}

/** Without `baseURL` proofs cannot be checked: DPoP-bound tokens are refused, nothing else changes. */
function refuseBoundTokens(realm: string): DpopGate {
  return {
    admit() {},
    bind(_req, _res, auth) {
      if (boundJkt(auth) !== undefined) {
        throw refuse(
          new InvalidTokenError('the token is DPoP-bound, and this API does not take DPoP', { realm }),
          {
            reason: 'dpop',
            hint: 'set baseURL (and dpop) on bearer() to accept DPoP-bound tokens',
          },
        );
      }
      return auth;
    },
    offer() {},
  };
}

/** The request's path (no query, no fragment), as the client addressed it. */
function requestPath(req: IncomingMessage): string | undefined {
  const target = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  if (path.startsWith('/')) return path;
  try {
    return new URL(path).pathname; // absolute-form request target: its host is ignored too
  } catch {
    return undefined;
  }
}

function singleProof(req: IncomingMessage, realm: string): string {
  const value = req.headers.dpop;
  if (Array.isArray(value) && value.length > 1) {
    throw new InvalidDpopProofError('more than one DPoP header', { realm });
  }
  const header = Array.isArray(value) ? value[0] : value;
  if (header === undefined || header === '') {
    throw new InvalidDpopProofError('the DPoP scheme needs a DPoP proof (the DPoP header)', { realm });
  }
  // Node joins repeated headers with ", "; a compact JWS never contains a comma.
  if (header.includes(',')) throw new InvalidDpopProofError('more than one DPoP header', { realm });
  return header;
}

export function createDpopGate(config: BearerConfig, now: () => number = Date.now): DpopGate {
  const { realm, dpop } = config;
  if (dpop === undefined) return refuseBoundTokens(realm);
  const nonces = dpop.nonce === undefined ? undefined : createDpopNonceSource(dpop.nonce);
  const verifier = createDpopProofVerifier({
    algorithms: new Set(dpop.algorithms),
    iatWindow: dpop.iatWindow,
    clockTolerance: config.clockTolerance,
    realm,
    nonces,
    replay: dpop.replayStore ?? createDpopReplayCache(dpop.replayCacheMaxEntries),
  });
  const offer: DpopOffer = Object.freeze({ algs: dpop.algorithms.join(' '), required: dpop.required });

  function htuOf(req: IncomingMessage): string {
    const path = requestPath(req);
    const htu = path === undefined ? undefined : normalizeHtu(dpop!.htuBase + path);
    if (htu === undefined) throw new InvalidDpopProofError('the request URL cannot be matched', { realm });
    return htu;
  }

  return {
    offer(req) {
      setDpopOffer(req, offer);
    },
    admit(req, credentials) {
      setScheme(req, credentials.scheme);
      if (dpop.required && credentials.scheme !== 'dpop') {
        // RFC 6750 §3.1: an unsupported scheme gets a challenge without an error code.
        throw refuse(
          new UnauthorizedError('this API requires DPoP-bound tokens with the DPoP scheme', { realm }),
          {
            reason: 'dpop',
            expected: 'DPoP',
            received: 'Bearer',
            hint: 'dpop.required is on: the client must send a DPoP-bound token with the DPoP scheme and a proof',
          },
        );
      }
    },
    bind(req, res, auth, { token, scheme }) {
      const jkt = boundJkt(auth);
      if (scheme === 'bearer') {
        if (jkt === undefined) return auth;
        throw refuse(
          new InvalidTokenError('the token is DPoP-bound: send it with the DPoP scheme and a proof', {
            realm,
          }),
          { reason: 'dpop', expected: 'DPoP', received: 'Bearer' },
        );
      }
      if (typeof jkt !== 'string') {
        throw refuse(new InvalidTokenError('the token is not DPoP-bound (no "cnf.jkt")', { realm }), {
          reason: 'dpop',
          hint: 'a Bearer token was sent with the DPoP scheme: the IdP did not bind it (its token_type is not DPoP)',
        });
      }
      const proof = singleProof(req, realm);
      const request = { method: req.method ?? '', htu: htuOf(req), accessToken: token, jkt };
      const bound = ({ nextNonce }: { nextNonce: string | undefined }): AuthResult => {
        if (nextNonce !== undefined) res.setHeader('DPoP-Nonce', nextNonce);
        return Object.freeze({ ...auth, dpop: Object.freeze({ jkt }) });
      };
      const verified = verifier.verify(proof, request, now());
      return verified instanceof Promise ? verified.then(bound) : bound(verified);
    },
  };
}
