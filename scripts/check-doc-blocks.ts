/**
 * Every TypeScript block of the README and docs/ compiles, under the strict flags users turn on,
 * against the package as built. Each ```ts / ```typescript block becomes one module of a throwaway
 * project (in .artifacts/, so `express`, `express-session`, `axios` and `redis` resolve from our
 * node_modules) whose `node_modules/portcullis` is the built package: its package.json and dist/.
 *
 *   tsx scripts/check-doc-blocks.ts [--package <dir>] [file.md ...]
 *
 * Without files: README.md and docs/**\/*.md. `--package` names a built package (package.json and
 * dist/); by default this repository's, built first when dist/ is missing or older than lib/.
 *
 * A block that is a fragment says what it stands on in an HTML comment right above it (markdown
 * renderers hide it):
 *   <!-- prelude: import { auth } from 'portcullis'; declare const app: import('express').Express; -->
 *   <!-- compile: skip -->   (only for a block that is not TypeScript a user could compile)
 * Blocks are modules: a name declared in one is not seen by the next.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

export interface DocBlock {
  /** The markdown file, relative to the repository. */
  file: string;
  /** 1-based line of the block's first line of code (the line after the opening fence). */
  line: number;
  code: string;
  prelude: string;
  skip: boolean;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const DIRECTIVE = /<!--\s*(compile|prelude)\s*:([\s\S]*?)-->\s*$/;

/** The HTML comment ending on the last non-blank line before `index`, if any. */
function commentBefore(lines: string[], index: number): string | undefined {
  let end = index - 1;
  while (end >= 0 && lines[end]!.trim() === '') end--;
  if (end < 0 || !lines[end]!.trimEnd().endsWith('-->')) return undefined;
  let start = end;
  while (start >= 0 && !lines[start]!.includes('<!--')) start--;
  return start < 0 ? undefined : lines.slice(start, end + 1).join('\n');
}

/** The TypeScript blocks of one markdown text, with their directives. */
export function extractBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (open === null) continue;
    const [, indent = '', fence = '', lang = ''] = open;
    let close = i + 1;
    while (close < lines.length && !lines[close]!.trim().startsWith(fence)) close++;
    if (lang === 'ts' || lang === 'typescript') {
      const code = lines
        .slice(i + 1, close)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n');
      const directive = DIRECTIVE.exec(commentBefore(lines, i) ?? '');
      const [, kind, value = ''] = directive ?? [];
      if (kind === 'compile' && value.trim() !== 'skip') {
        throw new Error(`${file}:${i + 1}: unknown directive "compile: ${value.trim()}" (only "skip")`);
      }
      blocks.push({
        file,
        line: i + 2,
        code,
        prelude: kind === 'prelude' ? value.trim() : '',
        skip: kind === 'compile',
      });
    }
    i = close;
  }
  return blocks;
}

function markdownFiles(): string[] {
  const docs = join(root, 'docs');
  const found = existsSync(docs)
    ? readdirSync(docs, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.md'))
        .map((f) => join(docs, f))
    : [];
  return [join(root, 'README.md'), ...found.sort()];
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

/** This repository's build, rebuilt when a source is newer than the shipped types. */
function ownBuild(): string {
  const types = join(root, 'dist', 'index.d.ts');
  const sources = ['lib', 'package.json', 'tsup.config.ts'].map((p) => newestMtime(join(root, p)));
  if (!existsSync(types) || statSync(types).mtimeMs < Math.max(...sources)) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return root;
}

const COMPILER_OPTIONS = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  target: 'ES2022',
  lib: ['ES2023'],
  types: ['node'],
  typeRoots: [join(root, 'node_modules', '@types')],
  // The shipped .d.ts is checked by __tests__/types; here only the blocks are.
  skipLibCheck: true,
  noEmit: true,
};

interface Written {
  block: DocBlock;
  path: string;
  /** Lines of prelude before the block's first line in the written file. */
  offset: number;
}

/** Compile the blocks; returns the errors, located in the markdown files. */
export function checkBlocks(blocks: DocBlock[], packageDir: string): string[] {
  const project = join(root, '.artifacts', `doc-blocks-${process.pid}`);
  rmSync(project, { recursive: true, force: true });
  const installed = join(project, 'node_modules', 'portcullis');
  mkdirSync(join(project, 'blocks'), { recursive: true });
  mkdirSync(installed, { recursive: true });
  copyFileSync(join(packageDir, 'package.json'), join(installed, 'package.json'));
  symlinkSync(resolve(packageDir, 'dist'), join(installed, 'dist'), 'dir');
  writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
  const written: Written[] = blocks
    .filter((b) => !b.skip)
    .map((block) => {
      const name = `${block.file.replace(/[^\w]+/g, '_')}_L${block.line}.ts`;
      const head = block.prelude === '' ? '' : `${block.prelude}\n`;
      // `export {}` keeps a block without imports a module, so that blocks never share names.
      writeFileSync(join(project, 'blocks', name), `${head}${block.code}\nexport {};\n`);
      return { block, path: `blocks/${name}`, offset: head === '' ? 0 : head.split('\n').length - 1 };
    });
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: COMPILER_OPTIONS, files: written.map((w) => w.path) }, null, 2),
  );
  try {
    if (written.length > 0) {
      execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', '.', '--pretty', 'false'], {
        cwd: project, // so that tsc names the blocks `blocks/…`, as locate() expects
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    }
    return [];
  } catch (err) {
    const output = String((err as { stdout?: unknown }).stdout ?? err);
    return locate(output, written);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

/** tsc's `blocks/x.ts(3,5): error TS…` lines, rewritten as `README.md:57:5: error TS…`. */
function locate(output: string, written: Written[]): string[] {
  const errors: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^(blocks\/[^(]+)\((\d+),(\d+)\): (.*)$/.exec(line);
    if (m === null) {
      if (line.startsWith(' ') && errors.length > 0) errors[errors.length - 1] += `\n${line}`;
      else if (line.trim() !== '') errors.push(line);
      continue;
    }
    const [, path, row = '0', col, message] = m;
    const w = written.find((x) => x.path === path);
    if (w === undefined) {
      errors.push(line);
      continue;
    }
    const inBlock = Number(row) - w.offset;
    const where = inBlock >= 1 ? `${w.block.line + inBlock - 1}:${col}` : `${w.block.line - 1} (prelude)`;
    errors.push(`${w.block.file}:${where}: ${message}`);
  }
  return errors;
}

function main(argv: string[]): number {
  const at = argv.indexOf('--package');
  const packageDir = at === -1 ? ownBuild() : resolve(argv[at + 1] ?? '.');
  const files = (at === -1 ? argv : argv.filter((_, i) => i !== at && i !== at + 1)).map((f) => resolve(f));
  const blocks = (files.length > 0 ? files : markdownFiles()).flatMap((f) =>
    extractBlocks(relative(root, f) || f, readFileSync(f, 'utf8')),
  );
  const errors = checkBlocks(blocks, packageDir);
  const skipped = blocks.filter((b) => b.skip).length;
  if (errors.length > 0) {
    console.error(errors.join('\n'));
    console.error(`\n${errors.length} error(s) in the TypeScript blocks of the docs`);
    return 1;
  }
  const where = new Set(blocks.map((b) => b.file)).size;
  console.log(
    `${blocks.length - skipped} TypeScript blocks in ${where} file(s) compile (${skipped} skipped)`,
  );
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exitCode = main(process.argv.slice(2));
}
