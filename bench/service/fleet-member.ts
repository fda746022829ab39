/**
 * One process of a bench fleet. Connects, prints "ready", waits for "go" on stdin so the fleet
 * starts together, runs its calls, prints `{ statuses }` as JSON.
 *
 * argv: kind tokenEndpoint apiUrl redisUrl prefix mode
 *   mode: "waves:<n>:<size>" (n waves of size concurrent calls) or "steady:<ms>:<loops>"
 */
import { createInterface } from 'node:readline';
import { contender, type Kind } from './clients.js';
import { runSteady, runWaves } from './traffic.js';

const [kind, tokenEndpoint, apiUrl, redisUrl, redisPrefix, mode] = process.argv.slice(2) as [
  Kind,
  string,
  string,
  string,
  string,
  string,
];
const client = await contender(kind, { tokenEndpoint, apiUrl, redisUrl, redisPrefix });
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line === 'go') break;
const [shape, a, b] = mode.split(':') as [string, string, string];
const statuses =
  shape === 'waves'
    ? await runWaves(client, Number(a), Number(b))
    : await runSteady(client, Number(a), Number(b));
process.stdout.write(`${JSON.stringify({ statuses })}\n`);
await client.close();
lines.close();
