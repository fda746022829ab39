// oidc-provider warns about development-only settings (in-memory adapter, devInteractions, the
// Node version, default pages) that are deliberate in tests; keep them out of the test output.
for (const level of ['warn', 'info'] as const) {
  const original = console[level];
  console[level] = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && /^oidc-provider (WARNING|NOTICE)/.test(args[0])) return;
    original(...args);
  };
}
