/**
 * The `lib/` of another commit, runnable by tsx next to ours (`git archive` of its `lib/`), so that a
 * bench can load before and after into the same process and compare them as peers in one run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

/** The path of `lib/index.ts` as it was at `ref`. */
export function baselineLib(ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-baseline-'));
  const archive = execFileSync('git', ['archive', ref, 'lib', 'package.json', 'tsconfig.json'], {
    cwd: root,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return join(dir, 'lib', 'index.ts');
}
