import { resolve } from 'node:path';
import { HostMode, HostName } from '@flotilla/protocol';
import { z } from 'zod';
import { parseArgs, usage, type ParsedArgs } from './config-args.js';
import { LOG_LEVELS, type LogLevel } from '@flotilla/runtime';

/** Everything the agent is told at start; read once, never from the environment later. */
export interface AgentConfig {
  controllerUrl: string;
  host: string;
  /** Secret: never log it, never pass it to a child process. */
  token: string;
  mode: HostMode;
  stateDir: string;
  profile: string;
  currentSystemLink: string;
  bootedSystemLink: string;
  disks: string[];
  logLevel: LogLevel;
  reconnectMaxSeconds: number;
  /** How activations are run; `auto` picks systemd-run where systemd runs. */
  activation: ActivationSetting;
  /** Program and arguments run to reboot; null: the default for the init system. */
  rebootCommand: string[] | null;
  bootIdFile: string;
  /** Where the hostname reported in facts is read. */
  hostnameFile: string;
  /** Where the machine id reported in facts is read. */
  machineIdFile: string;
  /** Environment for child processes: the agent's own, minus the token. */
  childEnv: Record<string, string>;
}

export const ACTIVATION_SETTINGS = ['auto', 'systemd-run', 'detached'] as const;
export type ActivationSetting = (typeof ACTIVATION_SETTINGS)[number];

export type ConfigResult =
  | { kind: 'config'; config: AgentConfig }
  | { kind: 'help' | 'version'; text: string }
  | { kind: 'invalid'; errors: string[] };

/** Where configuration comes from; injected so parsing is testable without a real process. */
export interface ConfigSources {
  /** Arguments after the program name. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  readTextFile(path: string): Promise<string>;
  hostname(): string;
  version: string;
}

/** Keys a `--config` JSON file may hold; unknown keys are errors so typos are not ignored. */
const ConfigFile = z
  .strictObject({
    controllerUrl: z.string(),
    host: z.string(),
    tokenFile: z.string(),
    mode: z.string(),
    stateDir: z.string(),
    profile: z.string(),
    currentSystemLink: z.string(),
    bootedSystemLink: z.string(),
    disks: z.array(z.string()),
    logLevel: z.string(),
    reconnectMaxSeconds: z.number(),
    activation: z.string(),
    rebootCommand: z.string(),
    bootIdFile: z.string(),
    hostnameFile: z.string(),
    machineIdFile: z.string(),
  })
  .partial();
type ConfigFile = z.infer<typeof ConfigFile>;

const DEFAULTS = {
  mode: 'managed',
  stateDir: '/var/lib/flotilla-agent',
  profile: '/nix/var/nix/profiles/system',
  currentSystemLink: '/run/current-system',
  bootedSystemLink: '/run/booted-system',
  disks: ['/', '/nix'],
  logLevel: 'info',
  reconnectMaxSeconds: '60',
  activation: 'auto',
  bootIdFile: '/proc/sys/kernel/random/boot_id',
  hostnameFile: '/proc/sys/kernel/hostname',
  machineIdFile: '/etc/machine-id',
} as const;

/** Environment variables that set a config key. The token itself is FLOTILLA_AGENT_TOKEN. */
const ENV_NAMES = {
  controllerUrl: 'FLOTILLA_CONTROLLER_URL',
  host: 'FLOTILLA_HOST',
  tokenFile: 'FLOTILLA_AGENT_TOKEN_FILE',
  mode: 'FLOTILLA_MODE',
  stateDir: 'FLOTILLA_AGENT_STATE_DIR',
  logLevel: 'FLOTILLA_LOG_LEVEL',
} as const;

/** Each setting as text, after precedence was applied but before validation. */
type RawSettings = Partial<Record<Exclude<keyof ConfigFile, 'disks'>, string>> & {
  disks: string[] | undefined;
  inlineToken: string | undefined;
};

/**
 * Reads flags, environment and the optional JSON file (in that order of precedence),
 * validates everything and returns either a config or every problem found.
 */
export async function loadConfig(sources: ConfigSources): Promise<ConfigResult> {
  const args = parseArgs(sources.argv);
  if (args.help) return { kind: 'help', text: usage() };
  if (args.version) return { kind: 'version', text: `flotilla-agent ${sources.version}\n` };
  const errors = [...args.errors];
  const configPath = args.values.configFile ?? nonEmpty(sources.env.FLOTILLA_AGENT_CONFIG);
  const file = configPath === undefined ? {} : await readConfigFile(configPath, sources, errors);
  const raw = mergeSources(args, sources.env, file);
  const token = await readToken(sources, raw, errors);
  const config = validate(raw, sources, errors);
  if (errors.length > 0 || config === null || token === undefined) {
    return { kind: 'invalid', errors };
  }
  return { kind: 'config', config: { ...config, token } };
}

function mergeSources(args: ParsedArgs, env: ConfigSources['env'], file: ConfigFile): RawSettings {
  const fromEnv = (key: keyof typeof ENV_NAMES) => nonEmpty(env[ENV_NAMES[key]]);
  const inlineToken = nonEmpty(env.FLOTILLA_AGENT_TOKEN);
  const fileReconnect = file.reconnectMaxSeconds;
  return {
    controllerUrl: args.values.controllerUrl ?? fromEnv('controllerUrl') ?? file.controllerUrl,
    host: args.values.host ?? fromEnv('host') ?? file.host,
    // A token given in the environment beats a token file named in the config file.
    tokenFile:
      args.values.tokenFile ??
      fromEnv('tokenFile') ??
      (inlineToken === undefined ? file.tokenFile : undefined),
    inlineToken,
    mode: args.values.mode ?? fromEnv('mode') ?? file.mode,
    stateDir: args.values.stateDir ?? fromEnv('stateDir') ?? file.stateDir,
    profile: args.values.profile ?? file.profile,
    currentSystemLink: args.values.currentSystemLink ?? file.currentSystemLink,
    bootedSystemLink: args.values.bootedSystemLink ?? file.bootedSystemLink,
    disks: args.disks.length > 0 ? args.disks : file.disks,
    logLevel: args.values.logLevel ?? fromEnv('logLevel') ?? file.logLevel,
    reconnectMaxSeconds:
      args.values.reconnectMaxSeconds ??
      (fileReconnect === undefined ? undefined : String(fileReconnect)),
    activation: args.values.activation ?? file.activation,
    rebootCommand: args.values.rebootCommand ?? file.rebootCommand,
    bootIdFile: args.values.bootIdFile ?? file.bootIdFile,
    hostnameFile: args.values.hostnameFile ?? file.hostnameFile,
    machineIdFile: args.values.machineIdFile ?? file.machineIdFile,
  };
}

/**
 * The agent's settings as one schema: every setting (as text, after precedence was applied)
 * checked and turned into its typed value, each problem with a message that names the
 * setting and how to set it. Relative paths are resolved once, at start.
 */
const path = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((value) => resolve(value ?? fallback));

/** A text setting that must be one of `options`; `message(value)` says so otherwise. */
function oneOf<T extends string>(
  options: readonly T[],
  fallback: T,
  message: (value: string) => string,
) {
  return z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      if ((options as readonly string[]).includes(value)) return value as T;
      ctx.addIssue({ code: 'custom', message: message(value) });
      return z.NEVER;
    });
}

const Settings = z.object({
  controllerUrl: z
    .string({
      error: 'controller URL is required: set --controller-url or FLOTILLA_CONTROLLER_URL',
    })
    .superRefine((url, ctx) => {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        ctx.addIssue({ code: 'custom', message: `controller URL "${url}" is not a valid URL` });
        return;
      }
      if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
        ctx.addIssue({
          code: 'custom',
          message: `controller URL "${url}" must start with ws:// or wss://`,
        });
    }),
  host: z.string().superRefine((host, ctx) => {
    if (!HostName.safeParse(host).success)
      ctx.addIssue({
        code: 'custom',
        message: `host "${host}" must be a lowercase DNS label (a-z, 0-9, -); set --host`,
      });
  }),
  mode: oneOf(HostMode.options, DEFAULTS.mode, (v) => `mode "${v}" must be "managed" or "monitor"`),
  stateDir: path(DEFAULTS.stateDir),
  profile: path(DEFAULTS.profile),
  currentSystemLink: path(DEFAULTS.currentSystemLink),
  bootedSystemLink: path(DEFAULTS.bootedSystemLink),
  disks: z
    .array(z.string())
    .default([...DEFAULTS.disks])
    .superRefine((disks, ctx) => {
      if (disks.length > 16)
        ctx.addIssue({
          code: 'custom',
          message: `at most 16 disks can be reported, got ${disks.length}`,
        });
    })
    .transform((disks) => disks.map((disk) => resolve(disk))),
  logLevel: oneOf(
    LOG_LEVELS,
    DEFAULTS.logLevel,
    (v) => `log level "${v}" must be one of ${LOG_LEVELS.join(', ')}`,
  ),
  reconnectMaxSeconds: z
    .string()
    .default(DEFAULTS.reconnectMaxSeconds)
    .transform((text, ctx) => {
      const seconds = Number(text);
      if (Number.isFinite(seconds) && seconds > 0) return seconds;
      ctx.addIssue({
        code: 'custom',
        message: `reconnect max seconds "${text}" must be a positive number`,
      });
      return z.NEVER;
    }),
  activation: oneOf(
    ACTIVATION_SETTINGS,
    DEFAULTS.activation,
    (v) => `activation "${v}" must be one of ${ACTIVATION_SETTINGS.join(', ')}`,
  ),
  // Split on spaces, never given to a shell: no quoting, no expansion.
  rebootCommand: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return null;
      const parts = text.split(' ').filter((part) => part !== '');
      if (parts.length > 0) return parts;
      ctx.addIssue({ code: 'custom', message: 'reboot command must not be empty' });
      return z.NEVER;
    }),
  bootIdFile: path(DEFAULTS.bootIdFile),
  hostnameFile: path(DEFAULTS.hostnameFile),
  machineIdFile: path(DEFAULTS.machineIdFile),
});

/** Checks every setting, adding one message per problem; null when any was found. */
function validate(
  raw: RawSettings,
  sources: ConfigSources,
  errors: string[],
): Omit<AgentConfig, 'token'> | null {
  const parsed = Settings.safeParse({ ...raw, host: raw.host ?? defaultHost(sources) });
  if (!parsed.success) {
    errors.push(...parsed.error.issues.map((issue) => issue.message));
    return null;
  }
  return { ...parsed.data, childEnv: childEnvironment(sources.env) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

async function readConfigFile(
  path: string,
  sources: ConfigSources,
  errors: string[],
): Promise<ConfigFile> {
  let data: unknown;
  try {
    data = JSON.parse(await sources.readTextFile(path));
  } catch (error) {
    errors.push(`config file ${path}: ${error instanceof Error ? error.message : String(error)}`);
    return {};
  }
  const parsed = ConfigFile.safeParse(data);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const where = issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : '';
    errors.push(`config file ${path}${where}: ${issue.message}`);
  }
  return {};
}

/** The short, lowercased hostname, so "Web-1.example.org" becomes "web-1". */
function defaultHost(sources: ConfigSources): string {
  return (sources.hostname().split('.')[0] ?? '').toLowerCase();
}

async function readToken(
  sources: ConfigSources,
  raw: RawSettings,
  errors: string[],
): Promise<string | undefined> {
  const path = raw.tokenFile;
  if (path === undefined) {
    if (raw.inlineToken !== undefined) return raw.inlineToken.trim();
    errors.push(
      'agent token is required: set --token-file, FLOTILLA_AGENT_TOKEN_FILE or FLOTILLA_AGENT_TOKEN',
    );
    return undefined;
  }
  let token: string;
  try {
    token = (await sources.readTextFile(path)).trim();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    errors.push(`token file ${path} cannot be read: ${reason}`);
    return undefined;
  }
  if (token === '') errors.push(`token file ${path} is empty`);
  return token;
}

/** Variables that would hand the agent's secret to activation scripts and Nix. */
const SECRET_VARIABLES = new Set(['FLOTILLA_AGENT_TOKEN']);

function childEnvironment(env: ConfigSources['env']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !SECRET_VARIABLES.has(name)) result[name] = value;
  }
  return result;
}
