/**
 * express-session's callback API as promises, with store failures turned into a clear 503
 * (`ERR_SESSION_STORE`) instead of an unhandled error.
 */
import type { Request } from 'express';
import { storeError } from './store.js';
import type { StoredLogin } from './token-set.js';

declare module 'express-session' {
  interface SessionData {
    /** The signed-in user's tokens, kept server-side by portcullis. */
    portcullis?: StoredLogin;
  }
}

function promisify(run: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((err) => (err ? reject(storeError(err)) : resolve())));
}

/** A new session id for the same browser: the fixation defence on login (OWASP, RFC 9700 §4.2). */
export function regenerateSession(req: Request): Promise<void> {
  return promisify((done) => req.session.regenerate(done));
}

export function saveSession(req: Request): Promise<void> {
  return promisify((done) => req.session.save(done));
}

export function destroySession(req: Request): Promise<void> {
  return promisify((done) => req.session.destroy(done));
}

/** The current login, or `undefined`. */
export function getLogin(req: Request): StoredLogin | undefined {
  const login = req.session?.portcullis;
  return login !== undefined && typeof login === 'object' && typeof login.tokens?.id_token === 'string'
    ? login
    : undefined;
}
