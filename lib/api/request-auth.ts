/**
 * Where `bearer()` puts its verdict: `req.auth`, without adding a property to an Express request.
 *
 * Express gives every request a hidden class of its own, so a property added to one costs V8 a new
 * hidden class, about 3 µs of CPU: more than a cached token's whole check (~1.5 µs). In
 * bench/bearer/run.ts the no-auth ceiling plus `req.auth = …` measured 0.95–0.97x of the ceiling, and
 * this 0.98–1.00x. So in an Express app `req.auth` is an accessor on Express's shared request prototype
 * (express-prototypes.ts) that reads the verdict from the request's `rawHeaders` array, where it is
 * kept under a symbol of ours, not enumerable. Arrays share their hidden class, so that costs little;
 * and an array's symbol property takes no part in what is done with raw headers (indexes, iteration,
 * `JSON.stringify`, `util.inspect`). Not `req.headers`: fetch's `new Headers(req.headers)` throws on
 * any symbol key, even a hidden one.
 *
 * Elsewhere (Connect, `node:http`), or when the request already has an own `auth` (another library's,
 * set earlier), the verdict is an own property as before. Assigning `req.auth` (as express-jwt or
 * express-oauth2-jwt-bearer do) stores an own property, which hides the accessor for that request.
 */
import type { IncomingMessage } from 'node:http';
import { ownPropertySetter, serveFromShared } from '../express-prototypes.js';
import type { AuthResult } from '../types/express.js';

const NAME = 'auth';
const VERDICT = Symbol('portcullis.auth');

type WithVerdict = { [VERDICT]?: AuthResult };

function readAuth(this: IncomingMessage): AuthResult | undefined {
  // `rawHeaders` of an object that is not a Node request (a test double) may be anything.
  const raw = this.rawHeaders as unknown;
  return typeof raw === 'object' && raw !== null ? (raw as WithVerdict)[VERDICT] : undefined;
}

const AUTH: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get: readAuth,
  set: ownPropertySetter(NAME),
};

/** The request prototype seen last, and whether `req.auth` reads through the accessor there. */
let lastSeen: object | null = null;
let lastServed = false;

function served(req: IncomingMessage): boolean {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto === lastSeen) return lastServed;
  lastSeen = proto;
  lastServed = serveFromShared(req, 'accepts', NAME, AUTH);
  return lastServed;
}

/** Set `req.auth` for this request (and every later middleware and route of it). */
export function setRequestAuth(req: IncomingMessage, auth: AuthResult): void {
  // An own `auth` (another middleware's, earlier) would hide the accessor: replace it, as before.
  const kept =
    served(req) &&
    !Object.hasOwn(req, NAME) &&
    Array.isArray(req.rawHeaders) &&
    // Reflect: an array the app froze refuses quietly, and the verdict becomes a property after all.
    Reflect.defineProperty(req.rawHeaders, VERDICT, {
      value: auth,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  // Reflect.set: an `auth` accessor of someone else's without a setter refuses instead of throwing,
  // and the verdict then becomes an own property, which hides it.
  if (!kept && !Reflect.set(req, NAME, auth)) {
    Object.defineProperty(req, NAME, { value: auth, writable: true, enumerable: true, configurable: true });
  }
}
