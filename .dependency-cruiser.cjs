// The layer rule of docs/ARCHITECTURE.md, checked by `npm run lint:layers` (part of `npm run ci`).
// Controller folders are listed from the top down; a folder may import its own layer and the
// ones below it, never one above. Packages: the protocol and the runtime import no other
// package of ours, and nothing imports the controller but the tests, scripts and sandbox tools.

/** Controller layers, top first; each entry is a list of folders under packages/controller/src. */
const LAYERS = [
  ['http', 'gateway'],
  ['status'],
  ['rollout'],
  ['deployments'],
  ['editor', 'plans'],
  ['pipeline'],
  ['repository', 'cache'],
  ['hosts', 'notifications', 'audit', 'auth'],
  ['events'],
  ['storage', 'adapters', 'git', 'support'],
];

const SRC = '^packages/controller/src/';
const folderPattern = (folders) => `${SRC}(${folders.join('|')})/`;

const layerRules = LAYERS.flatMap((folders, index) => {
  const above = LAYERS.slice(0, index).flat();
  if (above.length === 0) return [];
  return [
    {
      name: `layer-${folders.join('-')}`,
      comment: `${folders.join(', ')} must not import a layer above it (${above.join(', ')})`,
      severity: 'error',
      from: { path: folderPattern(folders), pathNot: '\\.test\\.ts$' },
      to: { path: folderPattern(above) },
    },
  ];
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'Modules must not depend on each other in a circle',
      severity: 'error',
      from: { path: '^packages/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'config-is-a-leaf',
      comment: 'The config may read schemas from the capability folders, not their services',
      severity: 'error',
      from: { path: `${SRC}config\\.ts$` },
      to: {
        path: `${SRC}(?!notifications/notifications\\.config|rollout/deploy-window|git/redact)`,
      },
    },
    {
      name: 'protocol-imports-nothing-internal',
      severity: 'error',
      from: { path: '^packages/protocol/' },
      to: { path: '^packages/(?!protocol/)' },
    },
    {
      name: 'runtime-imports-nothing-internal',
      severity: 'error',
      from: { path: '^packages/runtime/' },
      to: { path: '^packages/(?!runtime/)' },
    },
    {
      name: 'only-tools-import-the-controller',
      comment:
        "The agent, the CLI and the web UI talk to the controller over its API; the CLI's tests run the real controller to talk to (controller-fixture.ts)",
      severity: 'error',
      from: {
        path: '^packages/(agent|cli|web)/',
        pathNot: '^packages/cli/src/(.+\\.test\\.ts|controller-fixture\\.ts)$',
      },
      to: { path: '^packages/controller/' },
    },
    {
      name: 'the-controller-does-not-load-test-support',
      severity: 'error',
      from: { path: `${SRC}(?!testing/)`, pathNot: '\\.test\\.ts$' },
      to: { path: `${SRC}testing/` },
    },
  ],
  options: {
    includeOnly: '^packages/[^/]+/src/',
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'default', 'types'],
    },
  },
};
