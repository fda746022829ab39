/**
 * Records of our own in the app's express-session store (pending logins, refresh-token rotations),
 * through the callback API that every store implements. A record carries a `cookie.expires` so
 * that every store (MemoryStore, connect-redis, …) expires it like a session.
 */
import type { Store } from 'express-session';
import { PortcullisError } from '../errors.js';

export function storeError(err: unknown): PortcullisError {
  return new PortcullisError('ERR_SESSION_STORE', 'the session store is unavailable', {
    status: 503,
    cause: err instanceof Error ? { name: err.name, message: err.message } : undefined,
  });
}

export function storeGet<T>(store: Store, key: string, field: string): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    store.get(key, (err: unknown, data?: unknown) => {
      if (err) reject(storeError(err));
      else resolve((data as Record<string, T> | null | undefined)?.[field]);
    });
  });
}

export function storeSet(
  store: Store,
  key: string,
  field: string,
  value: unknown,
  ttlSeconds: number,
): Promise<void> {
  const record = {
    cookie: { originalMaxAge: ttlSeconds * 1000, expires: new Date(Date.now() + ttlSeconds * 1000) },
    [field]: value,
  };
  return new Promise((resolve, reject) => {
    store.set(key, record as never, (err?: unknown) => (err ? reject(storeError(err)) : resolve()));
  });
}

export function storeDestroy(store: Store, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    store.destroy(key, (err?: unknown) => (err ? reject(storeError(err)) : resolve()));
  });
}
