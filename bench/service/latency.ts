/**
 * Added latency per call: the same API called with a static Authorization header and through each
 * contender, interleaved call by call so that drift (GC, CPU frequency, other load) hits all alike.
 * The added latency is the contender's median minus the static header's median in the same run.
 */
import type { Contender } from './clients.js';

async function time(client: Contender): Promise<number> {
  const start = process.hrtime.bigint();
  const status = await client.call();
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (status !== 200) throw new Error(`latency run: status ${status}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median milliseconds per call for each named contender, interleaved over `rounds`. */
export async function medians(
  contenders: Record<string, Contender>,
  rounds: number,
): Promise<Record<string, number>> {
  const names = Object.keys(contenders);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < 200; i++) for (const n of names) await contenders[n]!.call(); // warm-up: JIT, sockets
  for (let i = 0; i < rounds; i++) {
    // Rotate the order each round: no contender always goes first on a warm socket.
    for (let j = 0; j < names.length; j++) {
      const n = names[(i + j) % names.length]!;
      samples[n]!.push(await time(contenders[n]!));
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(samples[n]!)]));
}

/** Nanoseconds per `getToken()`-like call on a warm cache, in process (no network). */
export async function hotPathNs(fn: () => Promise<unknown>, iterations = 200_000): Promise<number> {
  for (let i = 0; i < 10_000; i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}
