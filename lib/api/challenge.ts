/**
 * The `WWW-Authenticate` challenges of an API that takes DPoP (RFC 9449 §7.1, §7.2) as well as
 * Bearer tokens (RFC 6750 §3). `bearer()` records on the request what it offers; every error
 * answer (its own, `requireScope()`'s, ...) then challenges with both schemes:
 *
 *     Bearer realm="api", error="invalid_token", error_description="...", DPoP realm="api", algs="ES256 ..."
 *     DPoP realm="api", error="invalid_dpop_proof", error_description="...", algs="ES256 ...", Bearer realm="api"
 *
 * The error goes on the DPoP challenge when it is about the proof or the request used the DPoP
 * scheme, and on the Bearer challenge otherwise; the challenge that carries it comes first. With
 * `dpop.required` there is no Bearer challenge. Without DPoP, the Bearer challenge is the only one,
 * exactly as before.
 */
import type { IncomingMessage } from 'node:http';
import type { BearerChallengeError } from '../errors.js';

/** What `bearer()` offers for DPoP: the proof algorithms and whether Bearer is refused. */
export interface DpopOffer {
  readonly algs: string;
  readonly required: boolean;
}

const OFFER = Symbol('portcullis.dpopOffer');
const SCHEME = Symbol('portcullis.scheme');
type Marked = IncomingMessage & { [OFFER]?: DpopOffer; [SCHEME]?: 'bearer' | 'dpop' };

/** `bearer()` records its DPoP offer, so that later checks challenge with it too. */
export function setDpopOffer(req: IncomingMessage, offer: DpopOffer): void {
  (req as Marked)[OFFER] = offer;
}

/** `bearer()` records the scheme the request used, so that errors go on that challenge. */
export function setScheme(req: IncomingMessage, scheme: 'bearer' | 'dpop'): void {
  (req as Marked)[SCHEME] = scheme;
}

function isAboutDpop(err: BearerChallengeError, req: Marked, offer: DpopOffer): boolean {
  if (err.error === 'invalid_dpop_proof' || err.error === 'use_dpop_nonce') return true;
  return offer.required || req[SCHEME] === 'dpop';
}

/** The `WWW-Authenticate` value for `err` answering `req`. */
export function challengeFor(err: BearerChallengeError, req: IncomingMessage | undefined): string {
  const offer = req === undefined ? undefined : (req as Marked)[OFFER];
  if (offer === undefined) return err.wwwAuthenticate;
  const withError = err.authParams();
  const bare = withError.filter((param) => param.startsWith('realm='));
  const dpopFirst = isAboutDpop(err, req as Marked, offer);
  // A challenge is `scheme` alone or `scheme params`; a bare `Bearer` has no trailing space.
  const dpop = `DPoP ${[...(dpopFirst ? withError : bare), `algs="${offer.algs}"`].join(', ')}`;
  if (offer.required) return dpop;
  const bearerParams = dpopFirst ? bare : withError;
  const bearer = bearerParams.length === 0 ? 'Bearer' : `Bearer ${bearerParams.join(', ')}`;
  return dpopFirst ? `${dpop}, ${bearer}` : `${bearer}, ${dpop}`;
}
