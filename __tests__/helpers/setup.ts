// oidc-provider warns about development-only settings (in-memory adapter, devInteractions, the
// Node version) that are deliberate in tests; keep them out of the test output.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING')) return;
  warn(...args);
};
