/**
 * The split the style guide asks for, checked: protocol code imports no Express, the API glue
 * imports Express for nothing at run time, and nothing in either reaches into the sign-in product.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';

/** Every .ts file under `dir`, subfolders (lib/protocol/dpop/…) included. */
const files = (dir: string): Array<{ name: string; text: string }> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith('.ts') ? [{ name: path, text: readFileSync(path, 'utf8') }] : [];
  });

const imports = (text: string) => [...text.matchAll(/^import (type )?.*? from '([^']+)';$/gms)];

describe('layering', () => {
  test.each(['lib/protocol', 'lib/api'])('%s has no run-time express import and no sign-in import', (dir) => {
    let seen = 0;
    for (const { name, text } of files(dir)) {
      for (const [, typeOnly, from] of imports(text)) {
        seen++;
        if (from === 'express' || from?.startsWith('express-'))
          expect([name, typeOnly]).toEqual([name, 'type ']);
        expect([name, from?.includes('signin')]).toEqual([name, false]);
      }
    }
    expect(seen).toBeGreaterThan(10); // the pattern does find the imports
  });

  test('protocol code never imports the API glue, nor a product', () => {
    const all = files('lib/protocol');
    expect(all.some((f) => f.name.includes('/dpop/'))).toBe(true); // subfolders are read
    for (const { name, text } of all) {
      for (const [, , from] of imports(text)) {
        expect([name, /\/(api|service|signin)\//.test(from ?? '')]).toEqual([name, false]);
      }
    }
  });
});
