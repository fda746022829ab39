/** Traffic shapes shared by the bench and its fleet members. Each returns the statuses seen. */
import type { Contender } from './clients.js';

/** `waves` rounds of `size` concurrent calls, one round after the other. */
export async function runWaves(client: Contender, waves: number, size: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let w = 0; w < waves; w++) {
    statuses.push(...(await Promise.all(Array.from({ length: size }, () => client.call()))));
  }
  return statuses;
}

/** `loops` callers, each calling back to back (5 ms apart) for `ms` milliseconds. */
export async function runSteady(client: Contender, ms: number, loops: number): Promise<number[]> {
  const statuses: number[] = [];
  const until = Date.now() + ms;
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (Date.now() < until) {
        statuses.push(await client.call());
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }),
  );
  return statuses;
}

export function count(statuses: number[], status: number): number {
  return statuses.filter((s) => s === status).length;
}
