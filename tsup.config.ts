import { defineConfig } from 'tsup';

// One build, two formats: `import` gets ESM, `require` gets CommonJS. jose and oauth4webapi stay
// external; they are ESM-only, and Node 20.19+ loads them through `require()` from the CJS build.
export default defineConfig({
  entry: { index: 'lib/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
});
