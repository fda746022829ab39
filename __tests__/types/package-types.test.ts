/**
 * The types as users get them: the `.d.ts` and `.d.cts` that tsup ships hold nothing internal, a
 * strict ESM and a strict CommonJS consumer compile against them (claims typed, the app's own
 * claims merged in, misuse refused), and the docs' code-block checker fails on a broken block.
 *
 * The types are built into .artifacts/types (not dist/, which package.test.ts cleans and rebuilds
 * meanwhile). PORTCULLIS_TYPES_PACKAGE=<dir> checks another build instead (package.json + dist/).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '../..');
const work = join(root, '.artifacts', 'types');
const fixtures = join(import.meta.dirname, 'fixtures');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const given = process.env['PORTCULLIS_TYPES_PACKAGE'];
const pkg = given === undefined ? join(work, 'portcullis') : resolve(given);

beforeAll(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  if (given !== undefined) return;
  mkdirSync(pkg, { recursive: true });
  execFileSync(bin('tsup'), ['--dts-only', '--out-dir', join(pkg, 'dist')], { cwd: root, stdio: 'ignore' });
  // As `npm run build` does after tsup.
  execFileSync(bin('tsx'), ['scripts/strip-dts-headers.ts', join(pkg, 'dist')], {
    cwd: root,
    stdio: 'ignore',
  });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
}, 120_000);

/** Names that only the implementation knows; none may reach the shipped types. */
const INTERNAL_NAMES =
  /\b(SigninRuntime|SigninConfig|BearerConfig|ServiceAgentConfig|OidcClient|TransactionStore|Refresher|PendingLogin|StoredLogin|StoredDpopKey|DpopKeyRing|HttpSettings|ClientAuthConfig|SessionRequestContext|SessionResponseContext|STEP_UP)\b/;

const BANNED: Array<[RegExp, string]> = [
  [/\b(API|style)\.md\b/, "a reference to the project's own notes"],
  [/\blib\/|\b[\w-]+\.ts\b/, 'a source file'],
  [/\bunique symbol\b/, 'a symbol-keyed internal member'],
  [INTERNAL_NAMES, 'an internal name'],
];

/**
 * Helper types that public signatures name without exporting them. Anything else unexported in
 * the .d.ts got there through a public signature: export it, or keep it out of that signature.
 */
const UNEXPORTED_ALLOWED = new Set([
  'ASYMMETRIC_ALGORITHMS',
  'HMAC_ALGORITHMS',
  'AsymmetricAlgorithm',
  'HmacAlgorithm',
  'DPOP_ALGORITHMS',
  'ClientAuthOptions',
  'EventBase',
  'Interceptors',
]);

/** What is wrong with a shipped declaration file, one line per finding. */
function leaks(dts: string): string[] {
  const found: string[] = [];
  dts.split('\n').forEach((line, i) => {
    for (const [pattern, what] of BANNED) {
      const m = pattern.exec(line);
      if (m !== null) found.push(`line ${i + 1}: ${what} (${m[0]}): ${line.trim()}`);
    }
  });
  const file = ts.createSourceFile('index.d.ts', dts, ts.ScriptTarget.Latest);
  const exported = new Set<string>();
  const declared: string[] = [];
  for (const node of file.statements) {
    if (ts.isExportDeclaration(node) && node.exportClause && ts.isNamedExports(node.exportClause)) {
      for (const e of node.exportClause.elements) exported.add((e.propertyName ?? e.name).text);
    } else if (ts.isVariableStatement(node)) {
      for (const d of node.declarationList.declarations) declared.push(d.name.getText(file));
    } else if (
      (ts.isClassDeclaration(node) ||
        ts.isInterfaceDeclaration(node) ||
        ts.isTypeAliasDeclaration(node) ||
        ts.isFunctionDeclaration(node) ||
        ts.isEnumDeclaration(node)) &&
      node.name !== undefined
    ) {
      declared.push(node.name.text);
    }
  }
  for (const name of declared) {
    if (!exported.has(name) && !UNEXPORTED_ALLOWED.has(name)) found.push(`unexported declaration: ${name}`);
  }
  return found;
}

describe('the shipped declaration files', () => {
  test.each(['index.d.ts', 'index.d.cts'])('%s holds no internals', (name) => {
    expect(leaks(readFileSync(join(pkg, 'dist', name), 'utf8'))).toEqual([]);
  });

  test('the check finds what it is meant to find', () => {
    const sample = [
      '/** As API.md §1 describes it (see lib/signin/context.ts). */',
      'interface SigninRuntime { readonly config: unknown }',
      'declare const STEP_UP: unique symbol;',
      'declare class Helper {}',
      'export { type SigninRuntime };',
    ].join('\n');
    expect(leaks(sample)).toEqual([
      expect.stringContaining("project's own notes"),
      expect.stringContaining('a source file'),
      expect.stringContaining('an internal name (SigninRuntime)'),
      expect.stringContaining('a symbol-keyed internal member'),
      expect.stringContaining('an internal name (STEP_UP)'),
      expect.stringContaining('line 5: an internal name (SigninRuntime)'),
      'unexported declaration: STEP_UP',
      'unexported declaration: Helper',
    ]);
  });
});

/** A consumer project with `node_modules/portcullis` = the build, compiling one fixture strictly. */
function compileConsumer(name: string, fixture: string, type: 'module' | 'commonjs'): void {
  const dir = join(work, name);
  const installed = join(dir, 'node_modules', 'portcullis');
  mkdirSync(installed, { recursive: true });
  copyFileSync(join(pkg, 'package.json'), join(installed, 'package.json'));
  symlinkSync(join(pkg, 'dist'), join(installed, 'dist'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
  for (const file of [fixture, 'expect-type.d.ts']) copyFileSync(join(fixtures, file), join(dir, file));
  const compilerOptions = {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    noEmit: true,
    skipLibCheck: false, // our .d.ts is checked under these flags too
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
  };
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, files: [fixture, 'expect-type.d.ts'] }),
  );
  try {
    execFileSync(bin('tsc'), ['-p', '.', '--pretty', 'false'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    throw new Error(`${fixture} does not compile:\n${String((err as { stdout?: unknown }).stdout)}`);
  }
}

describe('consumers compile against the built types', () => {
  test('ESM (import, index.d.ts): typed claims, declared claims, refused misuse', () => {
    compileConsumer('esm', 'esm-app.ts', 'module');
  }, 60_000);

  test('CommonJS (require, index.d.cts): declaration merging works there too', () => {
    compileConsumer('cjs', 'cjs-app.cts', 'commonjs');
  }, 60_000);
});

describe('the docs code-block checker', () => {
  const check = (markdown: string) => {
    const file = join(work, 'docs', 'sample.md');
    mkdirSync(join(work, 'docs'), { recursive: true });
    writeFileSync(file, markdown);
    const args = ['scripts/check-doc-blocks.ts', '--package', pkg, file];
    try {
      return { code: 0, out: execFileSync(bin('tsx'), args, { cwd: root, encoding: 'utf8', stdio: 'pipe' }) };
    } catch (err) {
      const { status, stderr } = err as { status: number; stderr: string };
      return { code: status, out: stderr };
    }
  };
  const good = [
    '```ts',
    "import { bearer } from 'portcullis';",
    "export const api = bearer({ audience: 'a' });",
    '```',
  ];

  test('passes good blocks, fragments with a prelude, and skipped blocks', () => {
    const result = check(
      [
        ...good,
        '',
        "<!-- prelude: import { requiresAuth } from 'portcullis'; declare const app: import('express').Express; -->",
        '```ts',
        "app.get('/me', requiresAuth(), (req, res) => res.json(req.oidc.user?.email));",
        '```',
        '<!-- compile: skip -->',
        '```typescript',
        'this is not TypeScript',
        '```',
        '```sh',
        'npm test',
        '```',
      ].join('\n'),
    );
    expect(result).toEqual({
      code: 0,
      out: expect.stringContaining('2 TypeScript blocks in 1 file(s) compile (1 skipped)'),
    });
  }, 60_000);

  test('fails on a broken block, naming the markdown line', () => {
    const result = check(
      [
        ...good,
        '',
        "<!-- prelude: declare const app: import('express').Express; -->",
        '```ts',
        '// the README error handler as it was',
        'app.use((err, req, res, next) => next(err));',
        "const port: number = '3000';",
        '```',
      ].join('\n'),
    );
    expect(result.code).toBe(1);
    expect(result.out).toContain(
      ".artifacts/types/docs/sample.md:9:10: error TS7006: Parameter 'err' implicitly",
    );
    expect(result.out).toContain('.artifacts/types/docs/sample.md:10:7: error TS2322');
  }, 60_000);
});
