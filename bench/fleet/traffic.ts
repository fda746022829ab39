/**
 * The traffic of the fleet load run: sign-ins through the IdP's pages, and a mix of what signed-in
 * users, an API client with a DPoP-bound token and the fleet's service agents do. Every request is
 * recorded with its outcome and its start and end, so that the run can tell what happened in the
 * failover window from what happened outside it.
 */
import { randomBytes } from 'node:crypto';
import { signInAtIdp, TestBrowser } from '../../__tests__/helpers/browser.js';
import type { DpopCaller } from './dpop.js';

export type Kind = 'signin' | 'me' | 'profile' | 'refresh' | 'dpop' | 'replay' | 'call' | 'call-fresh';

export interface Outcome {
  kind: Kind;
  start: number;
  end: number;
  /** What was expected happened (a replay refused, a page served…). */
  ok: boolean;
  /** A signed-in user found signed out, and when that user had signed in. */
  lost?: { signedInAt: number };
  /** A replayed DPoP proof accepted; `firstUsedAt` is when it was used first. */
  replayAccepted?: { firstUsedAt: number };
  detail?: string;
}

export interface User {
  browser: TestBrowser;
  signedInAt: number;
}

/** The mix: [kind, share of requests]. */
const MIX: Array<[Kind, number]> = [
  ['me', 0.4],
  ['profile', 0.15],
  ['refresh', 0.05],
  ['signin', 0.05],
  ['dpop', 0.2],
  ['replay', 0.05],
  ['call', 0.05],
  ['call-fresh', 0.05],
];

function pick(roll: number): Kind {
  let left = roll;
  for (const [kind, share] of MIX) {
    left -= share;
    if (left < 0) return kind;
  }
  return 'me';
}

export class Traffic {
  readonly outcomes: Outcome[] = [];
  /** Proofs used once, to replay at the other process: newest last. */
  readonly #used: Array<{ proof: string; at: number; backend: number }> = [];

  constructor(
    readonly baseURL: string,
    readonly users: User[],
    readonly dpop: DpopCaller | undefined,
  ) {}

  /** A complete sign-in: /login, the IdP's pages, the callback. */
  async signIn(): Promise<User | undefined> {
    const browser = new TestBrowser();
    const start = Date.now();
    try {
      const first = await browser.get(`${this.baseURL}/login`);
      if (first.location === undefined) throw new Error(`/login ${first.status} ${first.body.slice(0, 80)}`);
      const { result } = await signInAtIdp(browser, first.location, {
        login: `u${randomBytes(3).toString('hex')}`,
      });
      const ok = result?.status === 302;
      this.#record('signin', start, ok, ok ? undefined : `${result?.status} ${result?.body.slice(0, 80)}`);
      return ok ? { browser, signedInAt: Date.now() } : undefined;
    } catch (err) {
      this.#record('signin', start, false, (err as Error).message.slice(0, 80));
      return undefined;
    }
  }

  /** One worker of the mix until `deadline`. */
  async run(deadline: number, worker: number): Promise<void> {
    for (let i = worker; Date.now() < deadline; i++) {
      const kind = pick(Math.random());
      if (this.dpop === undefined && ['dpop', 'replay', 'call', 'call-fresh'].includes(kind)) continue;
      await this.#one(kind, this.users[i % this.users.length]!);
    }
  }

  async #one(kind: Kind, user: User): Promise<void> {
    const start = Date.now();
    const json = { accept: 'application/json' };
    try {
      switch (kind) {
        case 'signin': {
          const user = await this.signIn();
          if (user !== undefined) this.users.push(user);
          return;
        }
        case 'me': {
          const res = await user.browser.get(`${this.baseURL}/me`, json);
          const signedIn = res.status === 200 && JSON.parse(res.body).authenticated === true;
          return this.#page(kind, start, res, user, res.status === 200 && !signedIn);
        }
        case 'profile':
          return this.#page(kind, start, await user.browser.get(`${this.baseURL}/profile`, json), user);
        case 'refresh':
          return this.#page(kind, start, await user.browser.post(`${this.baseURL}/refresh`, {}, json), user);
        case 'dpop':
          return await this.#dpop(start);
        case 'replay':
          return await this.#replay(start);
        default: {
          const res = await fetch(`${this.baseURL}/call${kind === 'call-fresh' ? '?fresh=1' : ''}`);
          this.#record(kind, start, res.status === 200, res.status === 200 ? undefined : await res.text());
        }
      }
    } catch (err) {
      this.#record(kind, start, false, (err as Error).message.slice(0, 80));
    }
  }

  #page(kind: Kind, start: number, res: { status: number; body: string }, user: User, signedOut = false) {
    if (signedOut || res.status === 401) {
      this.outcomes.push({ kind, start, end: Date.now(), ok: false, lost: { signedInAt: user.signedInAt } });
      return;
    }
    this.#record(
      kind,
      start,
      res.status === 200,
      res.status === 200 ? undefined : `${res.status} ${res.body.slice(0, 80)}`,
    );
  }

  #call(proof: string, backend: number) {
    return fetch(`${this.baseURL}/api/ping`, {
      headers: { authorization: `DPoP ${this.dpop!.token}`, dpop: proof, 'x-backend': String(backend) },
    });
  }

  async #dpop(start: number): Promise<void> {
    const proof = this.dpop!.proof('GET', `${this.baseURL}/api/ping`);
    const backend = Math.round(Math.random());
    const res = await this.#call(proof, backend);
    this.#record('dpop', start, res.status === 200, res.status === 200 ? undefined : await res.text());
    if (res.status !== 200) return;
    this.#used.push({ proof, at: start, backend });
    if (this.#used.length > 2000) this.#used.splice(0, 1000);
  }

  /** A proof used 0.3–20 s ago at one process, sent again to the other: must be refused. */
  async #replay(start: number): Promise<void> {
    const candidates = this.#used.filter((u) => u.at < start - 300 && u.at > start - 20_000);
    const used = candidates[Math.floor(Math.random() * candidates.length)];
    if (used === undefined) return;
    const res = await this.#call(used.proof, 1 - used.backend);
    const body = await res.text();
    const refused = res.status === 401 && body.includes('replayed');
    if (res.status === 200) {
      this.outcomes.push({
        kind: 'replay',
        start,
        end: Date.now(),
        ok: false,
        replayAccepted: { firstUsedAt: used.at },
      });
      return;
    }
    this.#record('replay', start, refused, refused ? undefined : `${res.status}`);
  }

  #record(kind: Kind, start: number, ok: boolean, detail?: string): void {
    this.outcomes.push({ kind, start, end: Date.now(), ok, ...(detail === undefined ? {} : { detail }) });
  }
}
