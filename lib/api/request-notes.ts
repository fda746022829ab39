/**
 * What `bearer()` notes about a request for the checks after it (`requireScope()`, `requireAcr()` and
 * the rest challenge with the same realm, scheme and DPoP offer): one WeakMap entry, not properties of
 * `req`, since each property added to an Express request costs a new V8 hidden class (context-guard.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { DpopOffer } from './challenge.js';

export interface RequestNotes {
  /** The DPoP offer of the `bearer()` that saw the request, for its challenges. */
  offer?: DpopOffer;
  /** The scheme the request used, so that errors go on that challenge. */
  scheme?: 'bearer' | 'dpop';
  /** The realm of a `bearer()` that let the request go on without a token. */
  realm?: string;
}

const notes = new WeakMap<IncomingMessage, RequestNotes>();

/** The request's notes, made on first use. */
export function notesFor(req: IncomingMessage): RequestNotes {
  const found = notes.get(req);
  if (found !== undefined) return found;
  const made: RequestNotes = {};
  notes.set(req, made);
  return made;
}

/** The request's notes, when a `bearer()` made any. */
export function notesOf(req: IncomingMessage): RequestNotes | undefined {
  return notes.get(req);
}
