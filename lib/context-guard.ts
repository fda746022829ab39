/**
 * Keeps the promise of the `req.oidc` / `res.oidc` declarations in apps that never mount `auth()`,
 * and serves `res.oidc` without adding a property to every response.
 *
 * The types declare `req.oidc` on every Express request, non-optional, so that a sign-in app writes
 * `req.oidc.user` without `!`. In an app without `auth()` (bearer-only, or a route mounted before
 * `auth()`) the value is not there, and the route would crash with "Cannot read properties of
 * undefined". Instead, the first portcullis middleware to see a request of an Express app
 * (`auth()`, `bearer()`) puts an accessor on that app's own request prototype (`app.request`, which
 * Express creates per app for such extensions): reading `req.oidc` where `auth()` has not set it
 * throws an error that says what to do. Assigning `req.oidc` (as `auth()` does) stores a plain own
 * property, so a signed-in request reads it like any other.
 *
 * `res.oidc` is an accessor on Express's shared response prototype (the parent of every app's
 * `app.response`, so that apps mounted in others see it too) that finds the response context through
 * `res.req.oidc`. Why not a property of each response: Express gives every request and response a
 * hidden class of its own (it swaps their prototypes), so each property added to one makes V8 build a
 * new hidden class, about 3 µs of CPU per property on every request (bench/signin/per-request.ts).
 * Apps where no portcullis middleware ran read `res.oidc` as `undefined`, as before.
 *
 * Nothing happens when the package is loaded (`sideEffects: false` holds and bundlers may drop
 * unused code), portcullis never imports Express at run time (whichever copy or version the app
 * uses is the one patched), and requests that Express did not set up (Connect, `node:http`) are
 * left alone: only Express's own prototypes are touched, never Node's `IncomingMessage.prototype`
 * or `ServerResponse.prototype`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PortcullisError } from './errors.js';
import { appPrototype, install, lookup, ownPropertySetter, serveFromShared } from './express-prototypes.js';

const NAME = 'oidc';

function notMounted(what: 'req' | 'res'): PortcullisError {
  return new PortcullisError(
    'ERR_SESSION_MISSING',
    `${what}.oidc is set by auth(): mount app.use(auth({ ... })) before this route`,
    { status: 500 },
  );
}

const setOwn = ownPropertySetter(NAME);

/** Where the sign-in product keeps a response's `res.oidc` (set once, by context.ts). */
type ResponseContextOf = (res: ServerResponse) => unknown;
let responseContextOf: ResponseContextOf = () => undefined;
export function serveResponseContext(find: ResponseContextOf): void {
  responseContextOf = find;
}

/** The per-app prototypes a portcullis middleware has seen: there, a missing `oidc` is a mistake. */
const guardedApps = new WeakSet<object>();

/** The same function objects for every app, so prototypes stay alike. */
const REQUEST: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(): never {
    throw notMounted('req');
  },
  set: setOwn,
};

function responseGetter(this: ServerResponse): unknown {
  const found = responseContextOf(this);
  if (found !== undefined) return found;
  if (guardedApps.has(Object.getPrototypeOf(this) as object)) throw notMounted('res');
  return undefined; // an app that never ran portcullis: as if nothing were there
}

const RESPONSE: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get: responseGetter,
  set: setOwn,
};

/** The prototypes seen last: one comparison per request once an app is set up. */
let lastRequest: object | null = null;
let lastResponse: object | null = null;
let lastServed = false;

/**
 * Called by `auth()` and `bearer()` on each request; cheap after the first of each app. True when
 * `res.oidc` is served by the accessor; false where `auth()` must set it on the response itself.
 */
export function guardSigninContext(req: IncomingMessage, res: ServerResponse): boolean {
  const reqProto = Object.getPrototypeOf(req) as object | null;
  const resProto = Object.getPrototypeOf(res) as object | null;
  if (reqProto === lastRequest && resProto === lastResponse) return lastServed;
  const appRequest = appPrototype(req);
  if (appRequest !== undefined) install(appRequest, NAME, REQUEST);
  const appResponse = appPrototype(res);
  let served = false;
  if (appResponse !== undefined) {
    guardedApps.add(appResponse);
    // On the shared prototype, so that apps mounted inside this one serve it too.
    served = serveFromShared(res, 'sendStatus', NAME, RESPONSE);
    // A frozen shared prototype: this app's own, for the diagnostic; auth() then sets res.oidc itself.
    if (lookup(res, NAME) === undefined) install(appResponse, NAME, RESPONSE);
  }
  lastRequest = reqProto;
  lastResponse = resProto;
  lastServed = served;
  return served;
}

/** `req.oidc` when `auth()` (or the app) set it on this request, without tripping the accessor. */
export function ownSigninContext(req: IncomingMessage): unknown {
  return Object.hasOwn(req, NAME) ? (req as unknown as Record<string, unknown>)[NAME] : undefined;
}
