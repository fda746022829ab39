/**
 * After `tsup`: in the CommonJS declarations (`dist/*.d.cts`), import ESM-only packages' types with
 * `resolution-mode: "import"`.
 *
 * jose is ESM-only. A `.d.cts` is a CommonJS module to TypeScript, so a plain `import … from 'jose'`
 * in it is TS1479 ("the referenced file is an ECMAScript module and cannot be imported with
 * 'require'") for every CommonJS project with `module: node16` and `skipLibCheck: false`. The
 * declarations only need jose's types, never its code: a type-only import with `resolution-mode`
 * says exactly that, and TypeScript resolves it through jose's `import` condition.
 *
 * A package is ESM-only when its package.json says `"type": "module"` and its exports have no
 * `require` condition.
 *
 *   node --import tsx scripts/dts-esm-imports.ts [dist]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);

function esmOnly(pkg: string): boolean {
  let manifest: { type?: string; exports?: unknown };
  try {
    manifest = require(`${pkg}/package.json`) as typeof manifest;
  } catch {
    return false; // not resolvable from here (a peer not installed): left as it is
  }
  return manifest.type === 'module' && !JSON.stringify(manifest.exports ?? {}).includes('"require"');
}

const IMPORT = /^import (?:type )?((?:\* as \w+|\{[^}]*\}|\w+)) from '([^'.][^']*)';$/gm;

export function withResolutionMode(dts: string, isEsmOnly: (pkg: string) => boolean = esmOnly): string {
  return dts.replace(IMPORT, (line, clause: string, specifier: string) => {
    const pkg = specifier.startsWith('@')
      ? specifier.split('/').slice(0, 2).join('/')
      : specifier.split('/')[0]!;
    if (specifier.startsWith('node:') || !isEsmOnly(pkg)) return line;
    return `import type ${clause} from '${specifier}' with { 'resolution-mode': 'import' };`;
  });
}

if (process.argv[1] !== undefined && import.meta.filename === resolve(process.argv[1])) {
  const dir = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'dist'));
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.d.cts'))) {
    const path = join(dir, name);
    writeFileSync(path, withResolutionMode(readFileSync(path, 'utf8')));
  }
}
