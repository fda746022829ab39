/** `npm run docs`: writes the generated reference pages in docs/. */
import { writeFileSync } from 'node:fs';
import { configurationReference } from './configuration-reference.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationReference());
console.log('wrote docs/configuration.md');
