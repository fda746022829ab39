/**
 * The package as users install it. From a clean copy of the repository (the files git knows, no
 * `dist/`), `npm pack` must build through `prepack`; publint (strict) and attw then lint the tarball;
 * `npm install` puts it in a brand new project outside the repository, where `import` (ESM), `require`
 * (CommonJS: Node 20.19+ loads the ESM-only jose and oauth4webapi through require) and a strict
 * TypeScript program (both module kinds, against the shipped `.d.ts` and `.d.cts`) must work.
 *
 * Nothing here downloads: the consumer's dependencies and peers are symlinks into our node_modules,
 * which also proves the tarball needs nothing it does not declare.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';

const root = resolve(import.meta.dirname, '..');
const modules = join(root, 'node_modules');
const work = mkdtempSync(join(tmpdir(), 'portcullis-package-'));
const clone = join(work, 'clone');
const consumer = join(work, 'consumer');
let tarball = '';
let packed: string[] = [];
let builtByPack = false;

// Children run as a user's shell would: without jest's NODE_OPTIONS, and without the npm_* variables
// of an enclosing `npm test`, which would point npm at this repository instead of the consumer.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => name !== 'NODE_OPTIONS' && !/^npm_(?!config_cache$)/.test(name),
  ),
);

/** Run a command; on failure, throw with everything it printed (publint and attw report on stdout). */
function run(cmd: string, args: string[], cwd: string): string {
  const result = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

function link(name: string): void {
  const to = join(consumer, 'node_modules', name);
  mkdirSync(dirname(to), { recursive: true });
  symlinkSync(join(modules, name), to, 'dir');
}

/** A clean clone: what git tracks or would add, so no `dist/` and no other build output. */
function cleanClone(): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  for (const file of files.split('\0').filter(Boolean)) {
    // Regular files only: a file deleted but still in the index, or a symlinked node_modules, is skipped.
    if (!lstatSync(join(root, file), { throwIfNoEntry: false })?.isFile()) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    copyFileSync(join(root, file), join(clone, file));
  }
  symlinkSync(modules, join(clone, 'node_modules'), 'dir'); // as after `npm ci`
}

beforeAll(() => {
  cleanClone();
  const hadDist = existsSync(join(clone, 'dist'));
  // Not --json: prepack's build output shares stdout with it. The tarball's own listing says more anyway.
  run('npm', ['pack', '--pack-destination', work], clone);
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  packed = run('tar', ['-tzf', tarball], work)
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''))
    .sort();
  builtByPack = !hadDist && existsSync(join(clone, 'dist', 'index.js'));

  // A brand new project. Its dependencies are linked first so that `npm install --offline` of the
  // tarball finds them satisfied; the peers are linked after, as npm prunes what it did not install.
  mkdirSync(join(consumer, 'node_modules'), { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const manifest = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8'));
  for (const name of Object.keys(manifest.dependencies)) link(name);
  run(
    'npm',
    ['install', '--offline', '--ignore-scripts', '--legacy-peer-deps', '--no-audit', '--no-fund', tarball],
    consumer,
  );
  for (const name of [
    'express',
    'express-session',
    '@types/node',
    '@types/express',
    '@types/express-session',
  ]) {
    link(name);
  }
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds the build, README, CHANGELOG and LICENSE, and nothing else of the repository', () => {
  expect(packed).toEqual(
    expect.arrayContaining([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'package.json',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
    ]),
  );
  expect(packed.filter((f) => !f.startsWith('dist/'))).toEqual([
    'CHANGELOG.md',
    'LICENSE',
    'README.md',
    'package.json',
  ]);
  expect(builtByPack).toBe(true); // no leftover dist/: prepack built what was packed
});

test('publint --strict finds nothing in the tarball', () => {
  expect(run(join(modules, '.bin', 'publint'), ['run', '--strict', tarball], work)).toMatch(/All good!/);
});

test('attw finds no type resolution problem in the tarball (node10, node16 CJS and ESM, bundler)', () => {
  expect(run(join(modules, '.bin', 'attw'), ['--format', 'ascii', tarball], work)).toMatch(
    /No problems found/,
  );
});

test('import { auth } from "portcullis" works (ESM)', () => {
  writeFileSync(
    join(consumer, 'esm.mjs'),
    `import { auth, requiresAuth, PortcullisError } from 'portcullis';
     const mw = auth({ issuerBaseURL: 'https://idp.example.com', baseURL: 'https://app.example.com', clientID: 'a', clientSecret: 's' });
     console.log(typeof mw, typeof requiresAuth(), new PortcullisError('ERR_STATE_MISMATCH', 'x', { status: 400 }).code);`,
  );
  expect(run('node', ['esm.mjs'], consumer).trim()).toBe('function function ERR_STATE_MISMATCH');
});

test('require("portcullis") works (CommonJS, loading ESM-only dependencies through require)', () => {
  writeFileSync(
    join(consumer, 'cjs.cjs'),
    `const { auth, PortcullisError } = require('portcullis');
     const mw = auth({ issuerBaseURL: 'https://idp.example.com', baseURL: 'https://app.example.com', clientID: 'a', clientSecret: 's' });
     console.log(typeof mw, new PortcullisError('ERR_STATE_MISMATCH', 'x').name);`,
  );
  expect(run('node', ['cjs.cjs'], consumer).trim()).toBe('function PortcullisError');
});

test('without @opentelemetry/api installed, serviceAgent() gets its token, from ESM and CommonJS', () => {
  // The optional peer is not in the consumer: its lazy import fails once, and nothing else changes.
  const fetchStub = `async () => new Response(JSON.stringify({ access_token: 't', token_type: 'Bearer', expires_in: 60 }), { headers: { 'content-type': 'application/json' } })`;
  const options = `{ tokenEndpoint: 'https://idp.example.com/token', clientID: 'a', clientSecret: 's', fetch: ${fetchStub}, onEvent: (e) => types.push(e.type) }`;
  writeFileSync(
    join(consumer, 'otel-absent.mjs'),
    `import { serviceAgent } from 'portcullis';
     let otel = 'absent';
     try { import.meta.resolve('@opentelemetry/api'); otel = 'present'; } catch {}
     const types = [];
     const agent = serviceAgent(${options});
     const token = await agent.getToken();
     await agent.getToken();
     await agent.close();
     console.log(otel, token.token_type, types.join(' '));`,
  );
  writeFileSync(
    join(consumer, 'otel-absent.cjs'),
    `const { serviceAgent } = require('portcullis');
     let otel = 'absent';
     try { require.resolve('@opentelemetry/api'); otel = 'present'; } catch {}
     const types = [];
     const agent = serviceAgent(${options});
     agent.getToken().then(async (token) => {
       await agent.getToken();
       await agent.close();
       console.log(otel, token.token_type, types.join(' '));
     });`,
  );
  const expected = 'absent Bearer agent.cache.missed agent.token.fetched agent.cache.hit';
  expect(run('node', ['otel-absent.mjs'], consumer).trim()).toBe(expected);
  expect(run('node', ['otel-absent.cjs'], consumer).trim()).toBe(expected);
});

test('the types resolve for TypeScript users, CommonJS and ESM, with req.oidc typed on Express', () => {
  // The same program as a CommonJS file (the `require` condition: index.d.cts) and as ESM (index.d.ts).
  const program = `import express from 'express';
     import session from 'express-session';
     import { auth, requiresAuth, type AuthOptions, type PortcullisErrorCode, type PortcullisEvent } from 'portcullis';
     const options: AuthOptions = { issuerBaseURL: 'https://idp.example.com', baseURL: 'https://app.example.com', clientID: 'a', clientSecret: async () => 's' };
     const app = express();
     app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
     app.use(auth(options));
     app.get('/me', requiresAuth(), (req, res) => {
       const sub: unknown = req.oidc.user?.['sub'];
       const expiresAt: number | undefined = req.oidc.accessToken?.expires_at;
       res.json({ sub, expiresAt, authed: req.oidc.isAuthenticated() });
     });
     const code: PortcullisErrorCode = 'ERR_STATE_MISMATCH';
     // The event types ship without @opentelemetry/api: none of them names it.
     const refused: PortcullisEvent = { type: 'bearer.rejected', reason: 'aud', expected: ['api'], received: 'other', status: 401, durationMs: 1 };
     // @ts-expect-error an unknown option is a type error
     auth({ ...options, notAnOption: true });
     export { app, code, refused };`;
  // Two programs: one holding both files would see the `Express.Request` augmentation twice (index.d.ts
  // and index.d.cts, two `RequestContext` classes) and refuse the second; a project is one kind or the
  // other. The two files are the same text, so only the CommonJS side, where the ESM-only jose and
  // oauth4webapi are imported from a .d.cts, pays for a full check of the declarations (~4 s of CPU).
  const compilerOptions = { strict: true, module: 'NodeNext', noEmit: true, types: ['node'] };
  const projects = {
    // Node16, not NodeNext: TypeScript 5.8+ lets NodeNext require() ESM, Node16 (what Node 20 projects
    // use) does not, so a plain `import … from 'jose'` in index.d.cts is TS1479 there.
    cts: { ...compilerOptions, module: 'Node16', skipLibCheck: false, skipDefaultLibCheck: true },
    mts: { ...compilerOptions, skipLibCheck: true },
  };
  for (const [kind, options] of Object.entries(projects)) {
    writeFileSync(join(consumer, `app.${kind}`), program);
    writeFileSync(
      join(consumer, `tsconfig.${kind}.json`),
      JSON.stringify({ compilerOptions: options, files: [`app.${kind}`] }),
    );
  }
  run(join(modules, '.bin', 'tsc'), ['-b', 'tsconfig.cts.json', 'tsconfig.mts.json'], consumer);
});
