/** `npm run docs:config`: regenerates docs/configuration.md from the schema and docs.ts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOCS_PATH, configurationMarkdown } from './docs-page.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = join(root, DOCS_PATH);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, configurationMarkdown());
process.stdout.write(`wrote ${DOCS_PATH}\n`);
