/**
 * The package as users install it: build, `npm pack`, unpack into a consumer project, then
 * `import` (ESM), `require` (CommonJS: Node 20.19+ loads the ESM-only jose and oauth4webapi through
 * require) and a strict TypeScript program against the shipped `.d.ts`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, expect, test } from '@jest/globals';

const root = resolve(import.meta.dirname, '..');
// Inside the repository, so the consumer resolves the package's dependencies from our node_modules.
const consumer = join(root, '.artifacts', 'consumer');
const run = (cmd: string, args: string[], cwd = root) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  rmSync(consumer, { recursive: true, force: true });
  mkdirSync(join(consumer, 'node_modules', 'portcullis'), { recursive: true });
  run('npm', ['run', 'build']);
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', consumer]))[0];
  run('tar', [
    '-xzf',
    join(consumer, packed.filename),
    '-C',
    join(consumer, 'node_modules', 'portcullis'),
    '--strip-components=1',
  ]);
}, 120_000);

test('the tarball holds the build, the README and nothing else of the repository', () => {
  const files = readdirSync(join(consumer, 'node_modules', 'portcullis'), { recursive: true })
    .map(String)
    .sort();
  expect(files).toEqual(
    expect.arrayContaining([
      'README.md',
      'package.json',
      'dist/index.js',
      'dist/index.cjs',
      'dist/index.d.ts',
      'dist/index.d.cts',
    ]),
  );
  expect(files.some((f) => f.startsWith('lib') || f.startsWith('__tests__'))).toBe(false);
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
  const out = execFileSync('node', ['cjs.cjs'], {
    cwd: consumer,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  expect(out.trim()).toBe('function PortcullisError');
});

test('the types resolve for TypeScript users, with req.oidc typed on Express', () => {
  writeFileSync(
    join(consumer, 'app.ts'),
    `import express from 'express';
     import session from 'express-session';
     import { auth, requiresAuth, type AuthOptions, type PortcullisErrorCode } from 'portcullis';
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
     // @ts-expect-error an unknown option is a type error
     auth({ ...options, notAnOption: true });
     export { app, code };`,
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: ['app.ts'],
    }),
  );
  run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', consumer]);
});
