/**
 * What `auth()` notes about one request for its later steps: the runtime of the `auth()` that saw it
 * last (for the route-level `attemptSilentLogin()`), the session's provider, and whether a silent
 * login was decided on already. One WeakMap entry per request rather than properties of `req`:
 * Express gives every request a new prototype, after which V8 builds a new hidden class for each
 * property added to it, a few microseconds each on every request (see `context-guard.ts`).
 */
import type { Request } from 'express';
import type { ProviderRuntime, SigninRuntime } from './runtime.js';

export interface RequestState {
  rt: SigninRuntime;
  /** The provider of the session's login, when it is one for this request. */
  provider?: ProviderRuntime;
  /** A silent login was started (or ruled out) for this request: its cookie is in the answer. */
  silentLoginDecided?: true;
}

const states = new WeakMap<Request, RequestState>();

/** The request's state, made or taken over by this `auth()` (a second `auth()` on the path wins). */
export function beginRequestState(req: Request, rt: SigninRuntime): RequestState {
  const state = states.get(req);
  if (state === undefined) {
    const made: RequestState = { rt };
    states.set(req, made);
    return made;
  }
  state.rt = rt;
  return state;
}

/** The request's state, when an `auth()` has seen it. */
export function requestState(req: Request): RequestState | undefined {
  return states.get(req);
}
