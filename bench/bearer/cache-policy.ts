/**
 * Hit rates of the verified-token cache's policy, in simulation (no timing, no HTTP):
 * `node --import tsx bench/bearer/cache-policy.ts`.
 *
 * Patterns of token reuse against a cache of 1,000, for three policies: a plain LRU; the policy
 * before 2026-11-30 (an LRU that admits a new token only 1 time in 16 once full); and TinyLFU
 * admission (token-cache.ts). "Best" is what a cache that knew the future counts would keep.
 */
import { createTokenCache, tokenHash } from '../../lib/protocol/token-cache.js';

const CAPACITY = 1000;
const NOW = Date.now();
const LATER = NOW + 3_600_000;

interface Policy {
  get(key: string): boolean;
  set(key: string): void;
}

function lru(maxEntries: number, admitOneIn = 1): Policy {
  const entries = new Map<string, true>();
  return {
    get(key) {
      if (!entries.delete(key)) return false;
      entries.set(key, true);
      return true;
    },
    set(key) {
      if (entries.size >= maxEntries && Math.random() * admitOneIn >= 1) return;
      entries.set(key, true);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}

function tinyLfu(maxEntries: number): Policy {
  const cache = createTokenCache<true>(maxEntries);
  return {
    get: (key) => cache.get(key, NOW) === true,
    set: (key) => cache.set(key, key, true, LATER, undefined, NOW),
  };
}

const keys = Array.from({ length: 40_000 }, (_, i) => tokenHash(`token-${i}`));
const keyOf = (i: number) => keys[i] ?? tokenHash(`token-${i}`);

/** The hit rate over `sequence` (token indexes), after the first `warmUp` requests. */
function hitRate(policy: Policy, sequence: readonly number[], warmUp: number): number {
  let hits = 0;
  for (let i = 0; i < sequence.length; i++) {
    const key = keyOf(sequence[i]!);
    const hit = policy.get(key);
    if (!hit) policy.set(key);
    if (hit && i >= warmUp) hits++;
  }
  return hits / (sequence.length - warmUp);
}

const roundRobin = (distinct: number, rounds: number) =>
  Array.from({ length: distinct * rounds }, (_, i) => i % distinct);

/** Zipf-distributed picks among `distinct` tokens: a few clients send most requests. */
function zipf(distinct: number, s: number, count: number): number[] {
  const weights = Array.from({ length: distinct }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let sum = 0;
  for (const w of weights) {
    sum += w / total;
    cdf.push(sum);
  }
  return Array.from({ length: count }, () => {
    const r = Math.random();
    let lo = 0;
    let hi = distinct - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}

/** 100 clients that keep sending their token, 1 request in `every`, between one-off tokens. */
function hotAndOneOffs(count: number, every: number): number[] {
  let once = 1000;
  return Array.from({ length: count }, (_, i) => (i % every === 0 ? (i / every) % 100 : once++));
}

const zipfBest = (distinct: number, s: number) => {
  let top = 0;
  let all = 0;
  for (let i = 1; i <= distinct; i++) {
    all += 1 / i ** s;
    if (i <= CAPACITY) top += 1 / i ** s;
  }
  return top / all;
};

const patterns: [string, number[], number, number][] = [
  ['2,000 tokens round-robin', roundRobin(2000, 20), 6000, 0.5],
  ['4,000 tokens round-robin', roundRobin(4000, 15), 12000, 0.25],
  ['Zipf s=0.9 over 10,000 tokens', zipf(10_000, 0.9, 300_000), 50_000, zipfBest(10_000, 0.9)],
  ['Zipf s=0.7 over 20,000 tokens', zipf(20_000, 0.7, 300_000), 50_000, zipfBest(20_000, 0.7)],
  [
    '100 tokens sent again and again, among one-offs (1 request in 11)',
    hotAndOneOffs(300_000, 11),
    50_000,
    1 / 11,
  ],
  ['the same, 1 request in 50', hotAndOneOffs(300_000, 50), 50_000, 1 / 50],
  ['the same, 1 request in 200', hotAndOneOffs(600_000, 200), 100_000, 1 / 200],
];

console.log(`Hit rates, cache of ${CAPACITY.toLocaleString('en')} entries\n`);
console.log('| pattern | LRU | LRU, 1-in-16 admission (before) | TinyLFU (now) | best |');
console.log('|---|---|---|---|---|');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
for (const [name, sequence, warmUp, best] of patterns) {
  const rates = [lru(CAPACITY), lru(CAPACITY, 16), tinyLfu(CAPACITY)].map((p) =>
    hitRate(p, sequence, warmUp),
  );
  console.log(`| ${name} | ${rates.map(pct).join(' | ')} | ${pct(best)} |`);
}
