/** `npm run docs`: writes the generated reference pages in docs/. */
import { writeFileSync } from 'node:fs';
import { configurationReference } from './configuration-reference.js';
import { errorsReference } from './errors-reference.js';

for (const [page, text] of [
  ['configuration.md', configurationReference()],
  ['errors.md', errorsReference()],
] as const) {
  writeFileSync(new URL(`../docs/${page}`, import.meta.url), text);
  console.log(`wrote docs/${page}`);
}
