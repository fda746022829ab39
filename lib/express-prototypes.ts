/**
 * Express's prototypes, for the few members portcullis serves through accessors instead of adding a
 * property to every request or response (`req.auth`, `req.oidc`, `res.oidc`).
 *
 * Why accessors: Express swaps each request's and response's prototype (`app.request`,
 * `app.response`, one per app), which gives every one of them a hidden class of its own. V8 then
 * builds a new hidden class for each property added to one: about 3 µs of CPU per property on every
 * request (bench/signin/per-request.ts, bench/bearer/run.ts). An accessor on a prototype costs nothing
 * until it is read.
 *
 * Only Express's own prototypes are touched (never Node's `IncomingMessage.prototype` or
 * `ServerResponse.prototype`), and nothing happens until a portcullis middleware sees a request.
 */

/** Express's per-app prototype of `target` (it has Express's own `app` property, in 4 and 5 alike). */
export function appPrototype(target: object): object | undefined {
  const proto: unknown = Object.getPrototypeOf(target);
  return typeof proto === 'object' && proto !== null && Object.hasOwn(proto, 'app') ? proto : undefined;
}

/**
 * Express's shared prototype above a per-app one (the parent of every app's `app.request` or
 * `app.response`, so that apps mounted in others see what is defined there), recognised by one of
 * its own methods (`accepts` on requests, `sendStatus` on responses).
 */
function sharedPrototype(appProto: object, method: 'accepts' | 'sendStatus'): object | undefined {
  const base: unknown = Object.getPrototypeOf(appProto);
  return typeof base === 'object' && base !== null && Object.hasOwn(base, method) ? base : undefined;
}

/** What reading `target[name]` finds first along the prototype chain. */
export function lookup(target: object, name: string): PropertyDescriptor | undefined {
  for (let o: object | null = target; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const found = Object.getOwnPropertyDescriptor(o, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Define `name` on `proto` unless it has one already (ours, or the app's own: never replaced). */
export function install(proto: object, name: string, descriptor: PropertyDescriptor): void {
  if (Object.hasOwn(proto, name)) return;
  // Reflect: a frozen prototype refuses quietly; a request must never fail for this.
  Reflect.defineProperty(proto, name, descriptor);
}

/**
 * Put `descriptor` on Express's shared prototype above `target` (unless that has a `name` already) and
 * say whether reading `target[name]` now goes through it: false outside Express, on a frozen prototype,
 * or where another copy of portcullis (or the app) defined `name` first.
 */
export function serveFromShared(
  target: object,
  method: 'accepts' | 'sendStatus',
  name: string,
  descriptor: PropertyDescriptor,
): boolean {
  const app = appPrototype(target);
  const shared = app === undefined ? undefined : sharedPrototype(app, method);
  if (shared === undefined) return false;
  install(shared, name, descriptor);
  return lookup(target, name)?.get === descriptor.get;
}

/** The setter of every such accessor: assigning stores an own property, which then hides the accessor. */
export function ownPropertySetter(name: string): (this: object, value: unknown) => void {
  return function setOwn(this: object, value: unknown): void {
    Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
  };
}
