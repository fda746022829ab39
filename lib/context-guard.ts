/**
 * Keeps the promise of the `req.oidc` / `res.oidc` declarations in apps that never mount `auth()`.
 *
 * The types declare `req.oidc` on every Express request, non-optional, so that a sign-in app writes
 * `req.oidc.user` without `!`. In an app without `auth()` (bearer-only, or a route mounted before
 * `auth()`) the value is not there, and the route would crash with "Cannot read properties of
 * undefined". Instead, the first portcullis middleware to see a request of an Express app
 * (`auth()`, `bearer()`) puts an accessor on that app's own request and response prototypes
 * (`app.request`, `app.response`, which Express creates per app for such extensions): reading
 * `req.oidc` where `auth()` has not set it throws an error that says what to do.
 *
 * Nothing happens when the package is loaded (`sideEffects: false` holds and bundlers may drop
 * unused code), portcullis never imports Express at run time (whichever copy or version the app
 * uses is the one patched), and requests that Express did not set up (Connect, `node:http`) are
 * left alone: only a prototype with Express's own `app` property is touched, never Node's
 * `IncomingMessage.prototype`.
 *
 * The accessor also keeps each request's value in a WeakMap instead of on the request. Express gives
 * every request a new prototype (`Object.setPrototypeOf(req, app.request)`), after which V8 builds a
 * new hidden class for each property added to that request: a few microseconds per property, on
 * every request (measured in bench/signin/per-request.ts). An assignment through the accessor adds
 * none; a read is a getter call and a WeakMap lookup.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PortcullisError } from './errors.js';

const NAME = 'oidc';

function notMounted(what: 'req' | 'res'): PortcullisError {
  return new PortcullisError(
    'ERR_SESSION_MISSING',
    `${what}.oidc is set by auth(): mount app.use(auth({ ... })) before this route`,
    { status: 500 },
  );
}

/** `req.oidc` / `res.oidc` of the requests of Express apps, by request: never a property of theirs. */
const values = { req: new WeakMap<object, unknown>(), res: new WeakMap<object, unknown>() };

/** The accessor for one side; the same function objects for every app, so prototypes stay alike. */
function accessor(what: 'req' | 'res'): PropertyDescriptor {
  const mine = values[what];
  return {
    configurable: true,
    enumerable: false,
    get(this: object): unknown {
      const value = mine.get(this);
      // `undefined` assigned on purpose reads back as `undefined`; never assigned is the mistake.
      if (value === undefined && !mine.has(this)) throw notMounted(what);
      return value;
    },
    set(this: object, value: unknown): void {
      mine.set(this, value);
    },
  };
}

const REQUEST = accessor('req');
const RESPONSE = accessor('res');

/**
 * Define `name` on every Express app prototype in `target`'s chain: an app mounted in another inherits
 * the parent's prototype, and Express puts the parent's back when the request leaves the mounted app,
 * so a value assigned inside reads the same outside.
 */
function install(target: object, name: string, descriptor: PropertyDescriptor): void {
  for (let proto: unknown = Object.getPrototypeOf(target); typeof proto === 'object' && proto !== null; ) {
    // `app` is an own property of Express's per-app prototypes only (Express 4 and 5 alike). An own
    // `name` is ours already, or the app's own: never replaced. Reflect: a frozen prototype refuses
    // quietly; a diagnostic must never fail the request itself.
    if (Object.hasOwn(proto, 'app') && !Object.hasOwn(proto, name))
      Reflect.defineProperty(proto, name, descriptor);
    proto = Object.getPrototypeOf(proto);
  }
}

/** The prototype seen last: one comparison per request once an app is set up. */
let lastSeen: object | null = null;

/** Called by `auth()` and `bearer()` on each request; cheap after the first of each app. */
export function guardSigninContext(req: IncomingMessage, res: ServerResponse): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto === lastSeen) return;
  install(req, NAME, REQUEST);
  install(res, NAME, RESPONSE);
  lastSeen = proto;
}

/** `req.auth` of the requests of Express apps, kept as `req.oidc` is (bearer() sets it). */
const auths = new WeakMap<object, unknown>();
const AUTH: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: object): unknown {
    return auths.get(this);
  },
  set(this: object, value: unknown): void {
    auths.set(this, value);
  },
};
let lastSeenByBearer: object | null = null;

/**
 * Set `req.auth`: through an accessor on an Express app's request prototype (installed at the first
 * request of each app), a plain property elsewhere. Other middleware may assign `req.auth` as before.
 */
export function setRequestAuth(req: IncomingMessage, auth: unknown): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto !== lastSeenByBearer) {
    install(req, 'auth', AUTH);
    lastSeenByBearer = proto;
  }
  (req as unknown as { auth: unknown }).auth = auth;
}

/** `req.oidc` when `auth()` (or the app) set it on this request, without tripping the accessor. */
export function ownSigninContext(req: IncomingMessage): unknown {
  if (values.req.has(req)) return values.req.get(req);
  return Object.hasOwn(req, NAME) ? (req as unknown as Record<string, unknown>)[NAME] : undefined;
}
