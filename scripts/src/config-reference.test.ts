import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  agentRows,
  CONFIGURATION_DOC,
  configurationDocument,
  controllerRows,
  documentedVariables,
} from './config-reference.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Names in the sources that no program reads from its own environment. */
const NOT_SETTINGS = new Set([
  // A constant of @flotilla/protocol: the version.
  'FLOTILLA_VERSION',
  // Set by the controller in git's environment for its credential helper, never read by it.
  'FLOTILLA_GIT_PASSWORD',
]);

/** Every `FLOTILLA_*` name in a program's sources (tests and test support left out). */
async function variablesIn(dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    if (!entry.isFile() || !/\.tsx?$/.test(entry.name) || entry.name.includes('.test.')) continue;
    if (path.includes('/testing/') || entry.name.includes('fixture')) continue;
    for (const name of (await readFile(path, 'utf8')).match(/\bFLOTILLA_[A-Z0-9_]+\b/g) ?? []) {
      names.add(name);
    }
  }
  return names;
}

describe('docs/CONFIGURATION.md', () => {
  it('describes every setting of the controller and the agent, and nothing else', () => {
    assert.deepEqual([...controllerRows().problems, ...agentRows().problems], []);
  });

  it('names every FLOTILLA_ variable the controller, the agent and the CLI read', async () => {
    const documented = documentedVariables(configurationDocument());
    for (const program of ['packages/controller/src', 'packages/agent/src', 'packages/cli/src']) {
      const missing = [...(await variablesIn(program))].filter(
        (name) => !documented.has(name) && !NOT_SETTINGS.has(name),
      );
      assert.deepEqual(missing, [], `${program} reads variables the reference does not name`);
    }
  });

  it('is what `npm run docs:config` writes', async () => {
    const committed = await readFile(join(root, CONFIGURATION_DOC), 'utf8');
    assert.ok(
      committed === configurationDocument(),
      `${CONFIGURATION_DOC} is out of date: run \`npm run docs:config\` and commit the result`,
    );
  });
});
