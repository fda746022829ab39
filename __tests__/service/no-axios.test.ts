import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@jest/globals';

const run = promisify(execFile);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

test('the agent loads and calls with fetch where axios cannot be loaded', async () => {
  const { stdout } = await run(process.execPath, [
    '--import',
    fixture('no-axios-register.mjs'),
    '--import',
    'tsx',
    fixture('no-axios.ts'),
  ]);
  expect(stdout).toBe('ok 200');
});

test('no library file imports axios or redis at run time (types by shape only)', () => {
  const dir = fileURLToPath(new URL('../../lib/service/', import.meta.url));
  for (const file of readdirSync(dir)) {
    const source = readFileSync(dir + file, 'utf8');
    expect(source).not.toMatch(/from ['"](axios|redis)['"]|import\(['"](axios|redis)['"]\)/);
  }
});
