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
 * `IncomingMessage.prototype`. Assigning `req.oidc` (as `auth()` does) stores a plain own
 * property, so a signed-in request reads it like any other.
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

/** The accessor for one side; the same function objects for every app, so prototypes stay alike. */
function accessor(what: 'req' | 'res'): PropertyDescriptor {
  return {
    configurable: true,
    enumerable: false,
    get(): never {
      throw notMounted(what);
    },
    set(this: object, value: unknown): void {
      Object.defineProperty(this, NAME, { value, writable: true, enumerable: true, configurable: true });
    },
  };
}

const REQUEST = accessor('req');
const RESPONSE = accessor('res');

function install(target: object, descriptor: PropertyDescriptor): void {
  const proto: unknown = Object.getPrototypeOf(target);
  // `app` is an own property of Express's per-app prototypes only (Express 4 and 5 alike).
  if (typeof proto !== 'object' || proto === null || !Object.hasOwn(proto, 'app')) return;
  if (Object.hasOwn(proto, NAME)) return; // ours already, or the app's own: never replaced
  // Reflect: a frozen prototype refuses quietly; a diagnostic must never fail the request itself.
  Reflect.defineProperty(proto, NAME, descriptor);
}

/** The prototype seen last: one comparison per request once an app is set up. */
let lastSeen: object | null = null;

/** Called by `auth()` and `bearer()` on each request; cheap after the first of each app. */
export function guardSigninContext(req: IncomingMessage, res: ServerResponse): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto === lastSeen) return;
  install(req, REQUEST);
  install(res, RESPONSE);
  lastSeen = proto;
}

/** `req.oidc` when `auth()` (or the app) set it on this request, without tripping the accessor. */
export function ownSigninContext(req: IncomingMessage): unknown {
  return Object.hasOwn(req, NAME) ? (req as unknown as Record<string, unknown>)[NAME] : undefined;
}
