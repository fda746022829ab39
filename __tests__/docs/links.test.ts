/** No broken relative link in the repository's Markdown, and the checker catches one. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from '@jest/globals';
import { brokenLinks, markdownFiles, slug } from '../../scripts/check-links.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('relative links', () => {
  test('every relative link in README, SECURITY, docs/ and examples/ resolves', () => {
    const files = markdownFiles(root);
    expect(files.length).toBeGreaterThan(2);
    expect(brokenLinks(root, files)).toEqual([]);
  });

  test("GitHub's heading slugs", () => {
    expect(slug('Sign-in: `auth()`')).toBe('sign-in-auth');
    expect(slug('Protected APIs: `bearer()`')).toBe('protected-apis-bearer');
    expect(slug('What is checked, and why')).toBe('what-is-checked-and-why');
  });

  test('a missing file, a missing heading and a missing anchor in the same page are reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'links-'));
    writeFileSync(
      join(dir, 'a.md'),
      '# Title\n\n## Part two\n\n[ok](b.md#there) [ok](#part-two) [web](https://x.example/nope)\n',
    );
    writeFileSync(
      join(dir, 'b.md'),
      '## There\n\n[gone](missing.md) [bad](a.md#nowhere) [self](#absent)\n\n```md\n[in code](ignored.md)\n```\n',
    );
    expect(brokenLinks(dir, [join(dir, 'a.md'), join(dir, 'b.md')])).toEqual([
      'b.md: missing.md (no such file)',
      'b.md: a.md#nowhere (no such heading)',
      'b.md: #absent (no such heading)',
    ]);
  });
});
