/**
 * Where `bearer()` puts its verdict: `req.auth`, without adding a property to an Express request.
 *
 * Express gives every request a hidden class of its own, so a property added to one costs V8 a new
 * hidden class, about 3 µs of CPU: more than a cached token's whole check (~1.5 µs). In
 * bench/bearer/run.ts the no-auth ceiling plus `req.auth = …` measured 0.95–0.97x of the ceiling, and
 * this 0.98–1.00x. So in an Express app `req.auth` is an accessor on Express's shared request prototype
 * (express-prototypes.ts) that reads the verdict from the request's `rawHeaders` array, where it is
 * kept in a private field of ours (`Verdict`, below). Arrays share their hidden class, so adding the
 * field costs little (about 20 ns, where `Object.defineProperty` of a hidden symbol took about 200);
 * and a private field is invisible to everything done with raw headers (indexes, iteration, copies,
 * `JSON.stringify`, `util.inspect`, `Object.getOwnPropertySymbols`). Not `req.headers`: that object is
 * made per request, and fetch's `new Headers(req.headers)` throws on any symbol key.
 *
 * Elsewhere (Connect, `node:http`), or when the request already has an own `auth` (another library's,
 * set earlier), the verdict is an own property as before. Assigning `req.auth` (as express-jwt or
 * express-oauth2-jwt-bearer do) stores an own property, which hides the accessor for that request.
 */
import type { IncomingMessage } from 'node:http';
import { ownPropertySetter, serveFromShared } from '../express-prototypes.js';
import type { AuthResult } from '../types/express.js';

const NAME = 'auth';

/** A constructor that returns the object it is given, so that a subclass adds its fields to that object. */
class Carrier {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the object given is what the subclass stamps
    return target as Carrier;
  }
}

/**
 * The verdict, as a private field stamped on a request's `rawHeaders` array: only this class can see
 * it. (The JavaScript idiom for a field on an object one did not construct.)
 */
class Verdict extends Carrier {
  #auth: AuthResult;

  private constructor(raw: object, auth: AuthResult) {
    super(raw);
    this.#auth = auth;
  }

  static read(raw: object): AuthResult | undefined {
    return #auth in raw ? (raw as Verdict).#auth : undefined;
  }

  /** False when `raw` takes no field (a future engine's rule for frozen objects). */
  static write(raw: object, auth: AuthResult): boolean {
    if (#auth in raw) {
      (raw as Verdict).#auth = auth;
      return true;
    }
    try {
      new Verdict(raw, auth);
      return true;
    } catch {
      return false;
    }
  }
}

function readAuth(this: IncomingMessage): AuthResult | undefined {
  // `rawHeaders` of an object that is not a Node request (a test double) may be anything.
  const raw = this.rawHeaders as unknown;
  return typeof raw === 'object' && raw !== null ? Verdict.read(raw) : undefined;
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
  let kept = false;
  if (served(req) && !Object.hasOwn(req, NAME)) {
    const raw = req.rawHeaders as unknown;
    kept = Array.isArray(raw) && Verdict.write(raw, auth);
  }
  // Reflect.set: an `auth` accessor of someone else's without a setter refuses instead of throwing,
  // and the verdict then becomes an own property, which hides it.
  if (!kept && !Reflect.set(req, NAME, auth)) {
    Object.defineProperty(req, NAME, { value: auth, writable: true, enumerable: true, configurable: true });
  }
}
