import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIGURATION_DOC, configurationDocument } from './config-reference.js';

// `npm run docs:config`: writes docs/CONFIGURATION.md from the config schemas.
const root = fileURLToPath(new URL('../..', import.meta.url));
try {
  await writeFile(join(root, CONFIGURATION_DOC), configurationDocument());
  console.log(`wrote ${CONFIGURATION_DOC}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
