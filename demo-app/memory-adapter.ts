/**
 * An unbounded in-memory storage adapter for oidc-provider. Its built-in development adapter keeps at
 * most 1,000 entries (codes, sessions, grants, tokens together), so past a few hundred users it
 * silently forgets refresh tokens ("refresh token not found"). For demos, tests and benches only:
 * nothing survives a restart and nothing is shared between processes.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

const store = new Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>();
const grants = new Map<string, Set<string>>();

function sweep(now: number): void {
  // Amortised clean-up of expired entries, so that a long run does not grow without bound.
  if (store.size % 1000 !== 0) return;
  for (const [key, entry] of store)
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) store.delete(key);
}

export class MemoryAdapter implements Adapter {
  readonly #model: string;

  constructor(model: string) {
    this.#model = model;
  }

  #key(id: string): string {
    return `${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const key = this.#key(id);
    const now = Date.now();
    store.set(key, { payload, expiresAt: expiresIn ? now + expiresIn * 1000 : undefined });
    if (payload.grantId !== undefined) {
      const keys = grants.get(payload.grantId) ?? new Set<string>();
      keys.add(key);
      grants.set(payload.grantId, keys);
    }
    sweep(now);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const entry = store.get(this.#key(id));
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(this.#key(id));
      return undefined;
    }
    return entry.payload;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    for (const [key, entry] of store)
      if (key.startsWith(`${this.#model}:`) && entry.payload.userCode === userCode) return entry.payload;
    return undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    for (const [key, entry] of store)
      if (key.startsWith(`${this.#model}:`) && entry.payload.uid === uid) return entry.payload;
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const entry = store.get(this.#key(id));
    if (entry !== undefined) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    store.delete(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of grants.get(grantId) ?? []) store.delete(key);
    grants.delete(grantId);
  }
}
