import {
  AGENT_CONFIG_FILE,
  AGENT_DEFAULTS,
  AGENT_ENV_NAMES,
  AGENT_FLAGS,
  AGENT_SETTINGS,
  agentConfigFileJsonSchema,
} from '@flotilla/agent';
import {
  CONTROLLER_CONFIG_FILE,
  CONTROLLER_SETTINGS,
  controllerConfigJsonSchema,
} from '@flotilla/controller';

/**
 * docs/CONFIGURATION.md, made from the config schemas (the controller's `ControllerConfig`,
 * the agent's `ConfigFile`, flags, variables and defaults) and the descriptions kept next
 * to them (`config.reference.ts`, `config-reference.ts`). Nothing here states a type,
 * default, flag or variable of its own, except the CLI's few variables.
 */

/** The committed file, relative to the repository root. */
export const CONFIGURATION_DOC = 'docs/CONFIGURATION.md';

/** One row of a settings table. */
interface SettingRow {
  key: string;
  type: string;
  default: string | undefined;
  sources: string[];
  description: string;
}

/** JSON Schema as zod writes it; only the parts read here. */
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  format?: string;
}

interface Described {
  description: string;
  env?: string;
  flag?: string;
  defaultText?: string;
  typeText?: string;
}

/** The controller's settings in the schema's order, and every path without a description (or the reverse). */
export function controllerRows(): { rows: SettingRow[]; problems: string[] } {
  const rows: SettingRow[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  // `inherited`: the value the parent object's default gives this key, if any.
  const visit = (key: string, node: JsonSchema, inherited: unknown) => {
    seen.add(key);
    const described: Described | undefined = CONTROLLER_SETTINGS[key];
    if (described === undefined) problems.push(`controller setting ${key} has no description`);
    const value = node.default ?? inherited;
    rows.push({
      key,
      type: described?.typeText ?? typeOf(node),
      default: described?.defaultText ?? defaultOf(node, value),
      sources: sourcesOf(described),
      description: described?.description ?? '',
    });
    for (const [suffix, child] of children(node)) {
      const name = suffix.slice(1);
      const fromParent = isRecord(value) && suffix.startsWith('.') ? value[name] : undefined;
      visit(`${key}${suffix}`, child, fromParent);
    }
  };
  const schema = controllerConfigJsonSchema() as JsonSchema;
  for (const [key, node] of Object.entries(schema.properties ?? {})) visit(key, node, undefined);
  for (const key of Object.keys(CONTROLLER_SETTINGS)) {
    if (!seen.has(key)) problems.push(`controller description ${key} names no setting`);
  }
  return { rows, problems };
}

/** The agent's settings in the config file's order, with their flags, variables and defaults. */
export function agentRows(): { rows: SettingRow[]; problems: string[] } {
  const rows: SettingRow[] = [];
  const problems: string[] = [];
  const flags = new Map<string, string>(
    Object.entries(AGENT_FLAGS).map(([flag, { key, value }]) => [key, `${flag} ${value}`]),
  );
  const envNames: Readonly<Record<string, string>> = AGENT_ENV_NAMES;
  const defaults: Readonly<Record<string, string | readonly string[]>> = AGENT_DEFAULTS;
  const properties = (agentConfigFileJsonSchema() as JsonSchema).properties ?? {};
  for (const [key, node] of Object.entries(properties)) {
    const described: Described | undefined = AGENT_SETTINGS[key];
    if (described === undefined) problems.push(`agent setting ${key} has no description`);
    const fixed = defaults[key];
    const sources = [flags.get(key), envNames[key], described?.env].filter(
      (source): source is string => source !== undefined,
    );
    rows.push({
      key,
      type: described?.typeText ?? typeOf(node),
      default:
        described?.defaultText ??
        (fixed === undefined ? undefined : code(JSON.stringify(agentDefault(node, fixed)))),
      sources,
      description: described?.description ?? '',
    });
  }
  for (const key of Object.keys(AGENT_SETTINGS)) {
    if (!(key in properties)) problems.push(`agent description ${key} names no setting`);
  }
  return { rows, problems };
}

/** `DEFAULTS` holds text as flags give it; show numbers and lists as a config file writes them. */
function agentDefault(node: JsonSchema, value: string | readonly string[]): unknown {
  if (node.type === 'number' && typeof value === 'string') return Number(value);
  return value;
}

/** What the CLI reads from its environment (`CliEnv` in packages/cli/src/context.ts). */
const CLI_ENVIRONMENT: readonly [string, string][] = [
  ['FLOTILLA_URL', 'Controller URL, unless `--url` or `--context` is given.'],
  [
    'FLOTILLA_TOKEN',
    'API token for automation (from `flotilla token create`), unless `--context` is given; never a flag.',
  ],
  [
    'FLOTILLA_TOTP',
    'A current TOTP code for an action that asks for step-up (the `--totp` flag; a code works once).',
  ],
  [
    'FLOTILLA_CONTEXT_FILE',
    'The contexts file; default `$XDG_CONFIG_HOME/flotilla/contexts.json`, else `~/.config/flotilla/contexts.json` (mode 0600).',
  ],
  ['FLOTILLA_UTC', '`1`: show times in UTC (the `--utc` flag).'],
  ['TZ', 'Time zone times are shown in, e.g. `Europe/Vienna`.'],
];

/** Variables of the demo and the tests, not of the programs. */
const TOOLING_ENVIRONMENT: readonly [string, string][] = [
  ['FLOTILLA_DEMO_PORT', '`npm run demo`: port of the demo controller (default 8080).'],
  [
    'FLOTILLA_TEST_POSTGRES_URL',
    'Tests: a PostgreSQL server to use instead of the throwaway one `scripts/run-tests.mjs` starts.',
  ],
  [
    'FLOTILLA_DEV_API',
    '`npm run dev -w @flotilla/web`: the controller the dev server forwards `/api` to.',
  ],
  [
    'FLOTILLA_CURRENT_SYSTEM_LINK',
    "Set by the agent for `switch-to-configuration` (its `currentSystemLink`): the demo's and the tests' sandboxed systems switch that link instead of the machine's; NixOS's own script ignores it.",
  ],
  ['FLOTILLA_PROFILE', "Likewise, the agent's `profile`."],
];

/** Every `FLOTILLA_*` variable the document names, for the test that greps the sources. */
export function documentedVariables(text: string): Set<string> {
  return new Set(text.match(/\bFLOTILLA_[A-Z0-9_]+\b/g) ?? []);
}

/** docs/CONFIGURATION.md; throws when a setting and its description do not match. */
export function configurationDocument(): string {
  const controller = controllerRows();
  const agent = agentRows();
  const problems = [...controller.problems, ...agent.problems];
  if (problems.length > 0) {
    throw new Error(
      'the settings and their descriptions differ:\n' +
        problems.map((problem) => `  - ${problem}`).join('\n') +
        '\nDescribe each setting in packages/controller/src/config.reference.ts or ' +
        'packages/agent/src/config-reference.ts.',
    );
  }
  return [
    '# Configuration',
    '',
    '<!-- Generated by `npm run docs:config` from the config schemas and their descriptions',
    '(packages/controller/src/config.reference.ts, packages/agent/src/config-reference.ts).',
    'Do not edit by hand: a unit test fails when this file differs from what the script writes. -->',
    '',
    'Every setting of the controller and the agent: its key in the JSON config file, the',
    'environment variable and command-line flag that set it, its type, default and meaning.',
    'Paths: `a.b` is key `b` inside object `a`; `hosts.<name>` is an entry per host name;',
    '`rollout.waves[]` is each element of a list. See [OPERATIONS.md](OPERATIONS.md) for how to',
    'use them and [INFRASTRUCTURE.md](INFRASTRUCTURE.md) for what lives where.',
    '',
    '## Controller',
    '',
    `\`flotilla-controller\` reads a JSON config file (\`${CONTROLLER_CONFIG_FILE.flag}\` or`,
    `\`${CONTROLLER_CONFIG_FILE.env}\`). ${CONTROLLER_CONFIG_FILE.description}`,
    'Secrets are never written in it: it names files that hold them, read once at start (a',
    'change needs a restart). `flotilla-controller --help` prints the flags and variables.',
    '',
    ...sections(controller.rows),
    '## Agent',
    '',
    `\`flotilla-agent\` reads a JSON config file (\`${AGENT_CONFIG_FILE.flag}\` or`,
    `\`${AGENT_CONFIG_FILE.env}\`). ${AGENT_CONFIG_FILE.description}`,
    "What the agent trusts — the controller's URL and certificate, the keys closures must be",
    'signed with, its health checks — comes only from here, never from the controller.',
    '`flotilla-agent --help` prints the flags.',
    '',
    table(agent.rows),
    '',
    '## CLI',
    '',
    '`flotilla` keeps named controllers and their tokens in its contexts file',
    '(`flotilla context`, `flotilla login`). Flags win over these variables, and `--context NAME`',
    'over both.',
    '',
    '| variable | meaning |',
    '| --- | --- |',
    ...CLI_ENVIRONMENT.map(([name, meaning]) => `| \`${name}\` | ${meaning} |`),
    '',
    '## Demo and tests',
    '',
    '| variable | meaning |',
    '| --- | --- |',
    ...TOOLING_ENVIRONMENT.map(([name, meaning]) => `| \`${name}\` | ${meaning} |`),
    '',
  ].join('\n');
}

/** Top-level scalars in one table, then one section per object, map or list of objects. */
function sections(rows: SettingRow[]): string[] {
  const topLevel = (row: SettingRow) => !/[.[]/.test(row.key);
  const groups = rows.filter((row) => topLevel(row) && hasChildren(row, rows));
  const scalars = rows.filter((row) => topLevel(row) && !hasChildren(row, rows));
  const out = ['### General', '', table(scalars), ''];
  for (const group of groups) {
    const members = rows.filter(
      (row) => row.key.startsWith(`${group.key}.`) || row.key.startsWith(`${group.key}[`),
    );
    out.push(`### \`${group.key}\``, '', group.description, '', table(members), '');
  }
  return out;
}

function hasChildren(row: SettingRow, rows: SettingRow[]): boolean {
  return rows.some(
    (other) => other.key.startsWith(`${row.key}.`) || other.key.startsWith(`${row.key}[`),
  );
}

function table(rows: SettingRow[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '| key | type | default | flag / variable | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${code(row.key)} | ${cell(row.type)} | ${cell(row.default ?? '')} | ` +
        `${row.sources.map((text) => cell(source(text))).join('<br>')} | ${cell(row.description)} |`,
    ),
  ].join('\n');
}

function sourcesOf(described: Described | undefined): string[] {
  return [described?.flag, described?.env].filter((s): s is string => s !== undefined);
}

/** The nested settings of a node, with the suffix each adds to its parent's path. */
function children(node: JsonSchema): [string, JsonSchema][] {
  if (node.properties !== undefined) {
    return Object.entries(node.properties).map(([key, child]) => [`.${key}`, child]);
  }
  const values = node.additionalProperties;
  if (typeof values === 'object' && values.properties !== undefined) return [['.<name>', values]];
  if (node.items?.properties !== undefined) {
    return Object.entries(node.items.properties).map(([key, child]) => [`[].${key}`, child]);
  }
  return [];
}

function typeOf(node: JsonSchema): string {
  if (node.enum !== undefined) return node.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (node.anyOf !== undefined) return node.anyOf.map(typeOf).join(' or ');
  if (node.properties !== undefined) return 'object';
  if (node.type === 'array') {
    if (node.items === undefined) return 'list';
    if (node.items.properties !== undefined) return 'list of objects';
    return `list of ${typeOf(node.items).replace(/^(string|integer|number|boolean|URL)\b/, '$1s')}`;
  }
  if (node.type === 'object') {
    const values = node.additionalProperties;
    if (typeof values !== 'object') return 'object';
    return values.properties !== undefined ? 'map of objects' : `map of ${typeOf(values)}s`;
  }
  if (node.type === undefined) return 'any';
  const base = node.format === 'uri' ? 'URL' : String(node.type);
  if (node.minimum !== undefined && node.maximum !== undefined) {
    return `${base}, ${node.minimum}–${node.maximum}`;
  }
  if (node.maximum !== undefined) return `${base}, at most ${node.maximum}`;
  if (node.minimum !== undefined) return `${base}, at least ${node.minimum}`;
  return base;
}

/** The default of a scalar or list as Markdown; an object shows its defaults key by key. */
function defaultOf(node: JsonSchema, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (isRecord(value)) {
    return Object.keys(value).length === 0 && node.properties === undefined
      ? code('{}')
      : undefined;
  }
  return code(JSON.stringify(value));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function code(text: string): string {
  return `\`${text}\``;
}

/** A flag or variable as Markdown: the name as code, a note in parentheses as text. */
function source(text: string): string {
  const note = text.indexOf(' (');
  return note < 0 ? code(text) : `${code(text.slice(0, note))}${text.slice(note)}`;
}
