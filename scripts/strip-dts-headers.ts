/**
 * After `tsup`: drop the module header comments from the shipped declaration files.
 *
 * The declaration bundle keeps each source module's header comment, detached from any declaration:
 * notes for contributors on how a file works ("Logout, as named steps", which sibling file does
 * what), that no editor ever shows a user (only a comment right above a declaration is shown). They
 * are what leaks internals into the .d.ts, so they go; the TSDoc of every declaration stays.
 * A detached comment is a top-level `/** … *\/` followed by a blank line: tsc writes a declaration's
 * own comment directly above it.
 *
 *   node --import tsx scripts/strip-dts-headers.ts [dist]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DETACHED = /^\/\*\*(?:(?!\*\/)[\s\S])*\*\/\n(?=\n)/gm;

function stripDetachedComments(dts: string): string {
  return dts.replace(DETACHED, '').replace(/\n{3,}/g, '\n\n');
}

const dir = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'dist'));
for (const name of readdirSync(dir).filter((f) => /\.d\.c?ts$/.test(f))) {
  const path = join(dir, name);
  writeFileSync(path, stripDetachedComments(readFileSync(path, 'utf8')));
}
