// Jest runs in ESM mode (NODE_OPTIONS=--experimental-vm-modules) because jose 6, oauth4webapi and
// oidc-provider 9 are ESM-only. swc strips the types; the mapper drops the `.js` of NodeNext imports.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1', '^portcullis$': '<rootDir>/lib/index.ts' },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  setupFiles: ['<rootDir>/__tests__/helpers/setup.ts'],
  // Once per run: a Redis for every test (the one at REDIS_URL, or a redis-server of our own).
  globalSetup: '<rootDir>/__tests__/helpers/redis-server.ts',
  globalTeardown: '<rootDir>/__tests__/helpers/global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: 2,
};
