/**
 * The configuration reference cannot drift: docs/configuration.md is what the option tables generate,
 * the `[VARIABLE]` named in each option's TSDoc (what an editor shows) is the one the table reads,
 * and no code reads a variable that is not in a table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import {
  BEARER_DPOP_OPTIONS,
  BEARER_ISSUER_OPTIONS,
  BEARER_OPTIONS,
  INTROSPECTION_OPTIONS,
} from '../../lib/config/bearer-options.js';
import type { OptionTable } from '../../lib/config/option-spec.js';
import { SERVICE_DPOP_OPTIONS, SERVICE_OPTIONS } from '../../lib/config/service-options.js';
import { PROVIDER_OPTIONS, SIGNIN_OPTIONS } from '../../lib/config/signin-options.js';
import { configurationReference } from '../../scripts/configuration-reference.js';
import { errorsReference } from '../../scripts/errors-reference.js';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

/** `[VARIABLE]` tags of an interface's properties, from its source. */
function tsdocTags(path: string, name: string): Map<string, string | undefined> {
  const source = read(path);
  const start = source.indexOf(`export interface ${name} `);
  expect(start).toBeGreaterThanOrEqual(0);
  const body = source.slice(source.indexOf('{', start) + 1, source.indexOf('\n}', start));
  const tags = new Map<string, string | undefined>();
  for (const match of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*\n\s*(\w+)\??:/g)) {
    tags.set(match[2]!, /^\s*\*?\s*\[([A-Z_]+)\]/.exec(match[1]!)?.[1]);
  }
  return tags;
}

describe('configuration reference', () => {
  test('docs/configuration.md is up to date (run `npm run docs`)', () => {
    expect(read('docs/configuration.md')).toBe(configurationReference());
  });

  test('docs/errors.md is up to date (run `npm run docs`)', () => {
    expect(read('docs/errors.md')).toBe(errorsReference());
  });

  test.each<[string, string, OptionTable]>([
    ['lib/config/signin.ts', 'AuthOptions', SIGNIN_OPTIONS],
    ['lib/protocol/client-auth.ts', 'ClientAuthOptions', SIGNIN_OPTIONS],
    ['lib/config/provider.ts', 'ProviderOptions', PROVIDER_OPTIONS],
    ['lib/config/bearer.ts', 'BearerOptions', BEARER_OPTIONS],
    ['lib/config/bearer-issuers.ts', 'BearerIssuerOptions', BEARER_ISSUER_OPTIONS],
    ['lib/config/bearer-dpop.ts', 'BearerDpopOptions', BEARER_DPOP_OPTIONS],
    ['lib/config/bearer-introspection.ts', 'IntrospectionOptions', INTROSPECTION_OPTIONS],
    ['lib/config/service.ts', 'ServiceAgentOptions', SERVICE_OPTIONS],
    ['lib/config/service-dpop.ts', 'ServiceAgentDpopOptions', SERVICE_DPOP_OPTIONS],
  ])('%s %s: the TSDoc names the variable the table reads', (path, name, table) => {
    const tags = tsdocTags(path, name);
    expect(tags.size).toBeGreaterThan(0);
    for (const [option, tag] of tags) {
      expect([option, tag]).toEqual([option, table[option]?.env]);
    }
  });

  test('lib/ reads no variable by name outside the option tables', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(new URL(dir, root), { withFileTypes: true })) {
        const path = `${dir}${entry.name}`;
        if (entry.isDirectory()) walk(`${path}/`);
        else if (path.endsWith('.ts') && !path.endsWith('/env.ts')) {
          const code = read(path).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
          for (const m of code.matchAll(
            /env(?:String|Boolean|Number|List)\(\s*\w+,\s*'([A-Z_]+)'|process\.env\.([A-Z_]+)|env\['([A-Z_]+)'\]/g,
          )) {
            offenders.push(`${path}: ${m[1] ?? m[2] ?? m[3]}`);
          }
        }
      }
    };
    walk('lib/');
    expect(offenders).toEqual([]);
  });
});
