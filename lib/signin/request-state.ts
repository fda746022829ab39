/**
 * What `auth()` notes about one request (its runtime, the session's provider, whether a silent login
 * was decided on), kept in the `req.oidc` object it sets rather than as properties of `req`.
 *
 * Why: Express gives every request a hidden class of its own (it swaps the request's prototype), so
 * each property added to a request makes V8 build a new one, about 3 µs of CPU on every request of a
 * signed-in user for each (measured with bench/signin/per-request.ts). `req.oidc` is the one property
 * `auth()` adds; `res.oidc` is served from here too (context-guard.ts).
 */
import type { NextFunction, Request } from 'express';
import { ownSigninContext } from '../context-guard.js';
import type { ProviderRuntime, SigninRuntime } from './runtime.js';

export class RequestState {
  /** The session's provider for this request, once `resolveSessionProvider()` found it. */
  provider: ProviderRuntime | undefined = undefined;
  /** A silent login was decided on for this request (its cookie is in the answer, not in the request). */
  silentDecided = false;
  /** `res.oidc`, made when first read. */
  response: object | undefined = undefined;

  readonly rt: SigninRuntime;
  /** auth()'s `next`: where `res.oidc.login()` and `logout()` send their errors. */
  readonly next: NextFunction;

  constructor(rt: SigninRuntime, next: NextFunction) {
    this.rt = rt;
    this.next = next;
  }
}

/** How to find the state in a `req.oidc` object: registered by context.ts, which owns that class. */
let read: (context: object) => RequestState | undefined = () => undefined;
export function readStateWith(reader: (context: object) => RequestState | undefined): void {
  read = reader;
}

/** The state of the `auth()` that set this request's `req.oidc`; none where no `auth()` ran. */
export function stateOf(req: Request): RequestState | undefined {
  const context = ownSigninContext(req);
  return typeof context === 'object' && context !== null ? read(context) : undefined;
}
