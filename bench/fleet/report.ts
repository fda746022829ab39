/**
 * The fleet load run's report, as Markdown tables: throughput, every failure (before the kill, and
 * in the failover window: from the kill to the end of the last request after it that failed or took
 * over a second), sessions lost (apart: those signed in within a second before the kill, which the
 * replication may not have carried yet), DPoP replays accepted, the agents' token requests, and the
 * bytes each kind of key costs in Redis. Returns whether the run met its targets.
 */
import { average, type KindUsage } from './memory.js';
import type { Kind, Outcome } from './traffic.js';

export interface RunFigures {
  topology: string;
  failover: boolean;
  concurrency: number;
  logins: { count: number; seconds: number; failed: number };
  phase2: { start: number; end: number; outcomes: Outcome[] };
  killedAt: number | undefined;
  /** When each client-credentials grant was made during phase 2. */
  agentGrants: number[];
  /** When each user found signed out at the end had signed in. */
  lostAtEnd: number[];
  users: number;
  memory: KindUsage[];
  heapBefore: Array<{ heapUsed: number; replayStoreWarnings: number }>;
  heapAfter: Array<{ heapUsed: number; replayStoreWarnings: number }>;
}

const SLOW_MS = 1000;
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
const row = (...cells: Array<string | number>) => console.log(`| ${cells.join(' | ')} |`);

export function report(f: RunFigures): boolean {
  const { outcomes } = f.phase2;
  const killedAt = f.killedAt ?? Number.POSITIVE_INFINITY;
  const seconds = (f.phase2.end - f.phase2.start) / 1000;
  const troubled = outcomes.filter((o) => o.end >= killedAt && (!o.ok || o.end - o.start > SLOW_MS));
  const windowEnd = Math.max(killedAt, ...troubled.map((o) => o.end));
  const failed = outcomes.filter((o) => !o.ok && o.lost === undefined && o.replayAccepted === undefined);
  const lostAt = [...outcomes.flatMap((o) => (o.lost ? [o.lost.signedInAt] : [])), ...f.lostAtEnd];
  const lostOld = lostAt.filter((at) => at < killedAt - 1000).length;
  const accepted = outcomes.filter((o) => o.replayAccepted !== undefined);

  console.log(
    `\n## Fleet load run: 2 processes, ${f.topology} Redis${f.failover ? ', a master killed' : ''} (concurrency ${f.concurrency})`,
  );
  console.log('| measure | value |\n| --- | --- |');
  row(
    'complete logins',
    `${f.logins.count} in ${f.logins.seconds.toFixed(1)} s = ${(f.logins.count / f.logins.seconds).toFixed(1)} logins/s (${f.logins.failed} failed)`,
  );
  row(
    'mixed traffic',
    `${outcomes.length} requests in ${seconds.toFixed(0)} s = ${(outcomes.length / seconds).toFixed(0)} req/s`,
  );
  row('requests failed before the kill', failed.filter((o) => o.end < killedAt).length);
  if (f.killedAt !== undefined) {
    row(
      'failover window (kill → last request failed or slower than 1 s)',
      `${((windowEnd - killedAt) / 1000).toFixed(1)} s`,
    );
    row('requests failed after the kill', failed.filter((o) => o.end >= killedAt).length);
    row('requests slower than 1 s after the kill', troubled.filter((o) => o.ok).length);
  }
  row('sessions lost (signed in > 1 s before the kill)', lostOld);
  row('sessions lost (signed in later)', lostAt.length - lostOld);
  row('users checked at the end', `${f.users} (${f.lostAtEnd.length} signed out)`);
  row(
    'DPoP replays tried / accepted',
    `${outcomes.filter((o) => o.kind === 'replay').length} / ${accepted.length}`,
  );
  row(
    '  of proofs used before the kill, replayed after it',
    `${accepted.filter((o) => o.replayAccepted!.firstUsedAt < killedAt && o.start >= killedAt).length} accepted`,
  );
  row(
    'agent token requests (phase 2)',
    `${f.agentGrants.length} (new agents started: ${outcomes.filter((o) => o.kind === 'call-fresh').length})`,
  );
  if (f.killedAt !== undefined) {
    row(
      '  of which in the failover window',
      f.agentGrants.filter((at) => at >= killedAt && at <= windowEnd + 1000).length,
    );
  }
  row(
    'DPoP replay checks decided without Redis (logged)',
    f.heapAfter.reduce((n, s) => n + s.replayStoreWarnings, 0),
  );
  for (const [i, before] of f.heapBefore.entries()) {
    row(`heap after GC, process ${i + 1}`, `${mb(before.heapUsed)} → ${mb(f.heapAfter[i]!.heapUsed)}`);
  }

  console.log(
    '\n| request | count | failed | slowest (ms) | slowest after the kill (ms) |\n| --- | --- | --- | --- | --- |',
  );
  const kinds: Kind[] = ['signin', 'me', 'profile', 'refresh', 'dpop', 'replay', 'call', 'call-fresh'];
  for (const kind of kinds) {
    const mine = outcomes.filter((o) => o.kind === kind);
    const slowest = (list: Outcome[]) => Math.max(0, ...list.map((o) => o.end - o.start));
    row(
      kind,
      mine.length,
      mine.filter((o) => !o.ok).length,
      slowest(mine),
      slowest(mine.filter((o) => o.end >= killedAt)),
    );
  }

  console.log('\n| key (Redis) | keys | bytes each (MEMORY USAGE) | TTL (s) |\n| --- | --- | --- | --- |');
  for (const u of f.memory) row(u.kind, u.keys, Math.round(u.bytes / u.keys), u.ttl);
  const perUser =
    average(f.memory, 'session') +
    average(f.memory, 'back-channel index by sid') +
    average(f.memory, 'back-channel index by sub');
  console.log(
    `\nPer signed-in user: ${perUser} bytes (session + back-channel index by sid and by sub), plus ${average(f.memory, 'rotation log')} per refresh ` +
      `in the last absoluteDuration; a pending login ${average(f.memory, 'pending login')}; a cached service token ${average(f.memory, 'cached service token')}; ` +
      `a DPoP proof seen ${average(f.memory, 'DPoP proof seen')} for its window.`,
  );
  const kindsOfFailure = new Map<string, number>();
  for (const o of failed)
    kindsOfFailure.set(`${o.kind}: ${o.detail}`, (kindsOfFailure.get(`${o.kind}: ${o.detail}`) ?? 0) + 1);
  for (const [what, count] of kindsOfFailure) console.log(`failed: ${count} × ${what}`);
  return (
    f.logins.failed === 0 && lostOld === 0 && accepted.length === 0 && (f.failover || failed.length === 0)
  );
}
