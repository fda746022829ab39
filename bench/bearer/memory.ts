/**
 * What the verified-token cache costs in memory: `node --expose-gc --import tsx bench/bearer/memory.ts [entries=10000]`.
 *
 * Fills a verifier's cache with `entries` distinct RS256 access tokens (the bench's 637-character ones),
 * each arriving as an `Authorization` header would (a fresh string), and weighs the heap after a full
 * GC: before, with the verifier warm; after, with only the cache holding the tokens. Prints bytes per
 * entry with the token, and without it (the token string alone, weighed the same way).
 */
import { validateBearerOptions } from '../../lib/config/bearer-config.js';
import { createTokenVerifier } from '../../lib/protocol/token-verifier.js';
import { AUDIENCE, startIssuer } from './keys.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const entries = Number(process.argv[2] ?? 10_000);

function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

/** A token as a request carries it: a string of its own, not one shared with the issuer. */
const arriving = (token: string) => Buffer.from(`Bearer ${token}`, 'latin1').toString('latin1').slice(7);

const issuer = await startIssuer();
const config = validateBearerOptions(
  { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: AUDIENCE, cacheMaxEntries: entries },
  {},
);
const verifier = createTokenVerifier(config);
await verifier.verify(issuer.token(-1)); // JWKS loaded, code warm
let sample = issuer.token(0);

// The tokens alone, held as the cache holds them, for the share of an entry that is the token itself.
const pristine = heap();
let held: string[] = [];
for (let i = 0; i < entries; i++) held.push(arriving(issuer.token(i)));
const tokens = heap() - pristine;
held = [];

const before = heap();
for (let i = 0; i < entries; i++) verifier.verify(arriving(issuer.token(i)));
const cached = heap() - before;
let still = 0;
for (let i = 0; i < entries; i += 97) if (verifier.cached(issuer.token(i)) !== undefined) still++;
if (still !== Math.ceil(entries / 97)) throw new Error('the cache did not keep every token');

console.log(
  `${entries.toLocaleString('en')} entries, tokens of ${sample.length} characters, Node ${process.version}`,
);
console.log(
  `cache: ${(cached / 1024 / 1024).toFixed(1)} MB, ${Math.round(cached / entries)} bytes per entry`,
);
console.log(`of which the token strings: ${Math.round(tokens / entries)} bytes per entry`);
console.log(`verdict, key and bookkeeping: ${Math.round((cached - tokens) / entries)} bytes per entry`);
sample = '';
issuer.close();
