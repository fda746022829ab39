/**
 * Imported first by server.ts, for its side effect: oidc-provider prints an "Unsupported runtime"
 * WARNING on Node 20 as soon as it is imported, and NOTICE lines about its defaults, which a newcomer
 * running the demo would take for a problem of theirs. ES modules run in import order, so these
 * filters are in place before idp.ts loads oidc-provider. Only lines that start with those words
 * are dropped (after the colour codes oidc-provider adds on a terminal); everything else still prints.
 */
import { stripVTControlCharacters } from 'node:util';

const PROVIDER_LINE = /^oidc-provider (WARNING|NOTICE)\b/;

function quiet(print: (...args: unknown[]) => void): (...args: unknown[]) => void {
  return (...args) => {
    if (typeof args[0] === 'string' && PROVIDER_LINE.test(stripVTControlCharacters(args[0]))) return;
    print(...args);
  };
}

console.warn = quiet(console.warn.bind(console));
console.info = quiet(console.info.bind(console));
