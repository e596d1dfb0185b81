import { HealthCheck, type HostMode, type HostOs } from '@flotilla/protocol';
import type { LogLevel } from '@flotilla/runtime';
import * as z from 'zod';
import { parseArgs, usage, type ParsedArgs } from './config-args.js';
import { Settings, type ActivationSetting } from './config-settings.js';

export type { ActivationSetting } from './config-settings.js';

/** How the agent checks the controller's TLS certificate (wss:// and https://). */
export interface ControllerTls {
  /** PEM text of the CA (or self-signed certificate) to trust instead of the system's. */
  ca: string | null;
  /** Where `ca` was read, for Nix (`NIX_SSL_CERT_FILE`). */
  caFile: string | null;
  /** `sha256//<base64>` of the certificate's public key (SPKI), checked on top. */
  pin: string | null;
}

/** Everything the agent is told at start; read once, never from the environment later. */
export interface AgentConfig {
  controllerUrl: string;
  tls: ControllerTls;
  host: string;
  mode: HostMode;
  /** Read only while the agent is not enrolled (or the token in it is a new one). */
  enrollmentTokenFile: string | null;
  /** FLOTILLA_AGENT_ENROLLMENT_TOKEN. Secret: never log it, never pass it to a child. */
  enrollmentToken: string | null;
  /** The keys (`name:base64`) every closure the agent fetches must be signed with. */
  trustedPublicKeys: string[];
  /** Run after each activation, as root; only ever from this config. */
  healthChecks: HealthCheck[];
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
  /**
   * Whether the agent prepares waiting deployments when the controller asks: fetches the
   * closure ahead and runs the new system's `switch-to-configuration dry-activate`.
   */
  prefetch: boolean;
  bootIdFile: string;
  /** Where the hostname reported in facts is read. */
  hostnameFile: string;
  /** Where the machine id reported in facts is read. */
  machineIdFile: string;
  /** Environment for child processes: the agent's own, minus secrets. */
  childEnv: Record<string, string>;
  /** `darwin` on macOS (and with `darwinCommandsDir`): monitor mode only. */
  os: HostOs;
  /** The home-manager profile links looked at, in order (macOS). */
  homeManagerProfiles: string[];
  /**
   * A test and demo facility, not a feature: report as a Mac on Linux, the macOS
   * programs (`sw_vers`, `sysctl`, `vm_stat`, `nix`) taken from this directory.
   */
  darwinCommandsDir: string | null;
}

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
  /** `process.platform`; `darwin` makes a macOS (monitor-only) agent. Default: linux. */
  platform?: string;
}

/** Keys a `--config` JSON file may hold; unknown keys are errors so typos are not ignored. */
export const ConfigFile = z
  .strictObject({
    controllerUrl: z.string(),
    caFile: z.string(),
    certificatePin: z.string(),
    host: z.string(),
    enrollmentTokenFile: z.string(),
    trustedPublicKeys: z.array(z.string()),
    healthChecks: z.array(HealthCheck).max(32),
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
    prefetch: z.union([z.boolean(), z.enum(['on', 'off'])]),
    bootIdFile: z.string(),
    hostnameFile: z.string(),
    machineIdFile: z.string(),
    homeManagerProfile: z.string(),
    darwinCommandsDir: z.string(),
    // Removed; recognised so the error can say what replaced it.
    tokenFile: z.string(),
  })
  .partial();
type ConfigFile = z.infer<typeof ConfigFile>;

/** Environment variables that set a config key. */
export const ENV_NAMES = {
  controllerUrl: 'FLOTILLA_CONTROLLER_URL',
  caFile: 'FLOTILLA_CA_FILE',
  host: 'FLOTILLA_HOST',
  enrollmentTokenFile: 'FLOTILLA_AGENT_ENROLLMENT_TOKEN_FILE',
  mode: 'FLOTILLA_MODE',
  stateDir: 'FLOTILLA_AGENT_STATE_DIR',
  logLevel: 'FLOTILLA_LOG_LEVEL',
} as const;

/** The one variable holding a secret: kept out of every child process's environment. */
const ENROLLMENT_TOKEN_VARIABLE = 'FLOTILLA_AGENT_ENROLLMENT_TOKEN';

/** How earlier versions took the static agent token, which protocol 2 retired. */
const RETIRED = {
  flag: '--token-file',
  variables: ['FLOTILLA_AGENT_TOKEN', 'FLOTILLA_AGENT_TOKEN_FILE'],
  message:
    'static agent tokens are retired: the agent enrolls once with a one-time token ' +
    '(`flotilla host enroll HOST`, then --enrollment-token-file) and proves its own key ' +
    'from then on; remove the old token setting',
};

/** Each setting after precedence was applied but before validation. */
type RawSettings = Partial<
  Record<
    Exclude<keyof ConfigFile, 'disks' | 'trustedPublicKeys' | 'healthChecks' | 'prefetch'>,
    string
  >
> & {
  prefetch: string | undefined;
  disks: string[] | undefined;
  trustedPublicKeys: string[] | undefined;
  healthChecks: HealthCheck[] | undefined;
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
  if (raw.tokenFile !== undefined || RETIRED.variables.some((v) => nonEmpty(sources.env[v]))) {
    errors.push(RETIRED.message);
  }
  const settings = Settings.safeParse({ ...raw, host: raw.host ?? defaultHost(sources) });
  if (!settings.success) errors.push(...settings.error.issues.map((issue) => issue.message));
  const ca = settings.success ? await readCa(settings.data.caFile, sources, errors) : null;
  const os: HostOs =
    sources.platform === 'darwin' || (settings.success && settings.data.darwinCommandsDir)
      ? 'darwin'
      : 'linux';
  if (os === 'darwin' && settings.success && settings.data.mode === 'managed') {
    errors.push(
      'a macOS agent only reports (Flotilla never deploys to or reboots a Mac): set --mode monitor',
    );
  }
  if (errors.length > 0 || !settings.success) return { kind: 'invalid', errors };
  const { caFile, certificatePin, homeManagerProfile, ...rest } = settings.data;
  return {
    kind: 'config',
    config: {
      ...rest,
      tls: { ca, caFile, pin: certificatePin },
      enrollmentToken: nonEmpty(sources.env[ENROLLMENT_TOKEN_VARIABLE])?.trim() ?? null,
      childEnv: childEnvironment(sources.env),
      os,
      homeManagerProfiles:
        homeManagerProfile !== null ? [homeManagerProfile] : homeManagerProfiles(sources.env),
    },
  };
}

function mergeSources(args: ParsedArgs, env: ConfigSources['env'], file: ConfigFile): RawSettings {
  const fromEnv = (key: keyof typeof ENV_NAMES) => nonEmpty(env[ENV_NAMES[key]]);
  const envKeys = nonEmpty(env.FLOTILLA_TRUSTED_PUBLIC_KEYS)?.split(/\s+/).filter(Boolean);
  const fileReconnect = file.reconnectMaxSeconds;
  return {
    controllerUrl: args.values.controllerUrl ?? fromEnv('controllerUrl') ?? file.controllerUrl,
    caFile: args.values.caFile ?? fromEnv('caFile') ?? file.caFile,
    certificatePin: args.values.certificatePin ?? file.certificatePin,
    host: args.values.host ?? fromEnv('host') ?? file.host,
    enrollmentTokenFile:
      args.values.enrollmentTokenFile ?? fromEnv('enrollmentTokenFile') ?? file.enrollmentTokenFile,
    trustedPublicKeys:
      args.trustedPublicKeys.length > 0
        ? args.trustedPublicKeys
        : (envKeys ?? file.trustedPublicKeys),
    healthChecks: file.healthChecks,
    tokenFile: args.values.tokenFile ?? file.tokenFile,
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
    prefetch: args.values.prefetch ?? onOff(file.prefetch),
    bootIdFile: args.values.bootIdFile ?? file.bootIdFile,
    hostnameFile: args.values.hostnameFile ?? file.hostnameFile,
    machineIdFile: args.values.machineIdFile ?? file.machineIdFile,
    homeManagerProfile: args.values.homeManagerProfile ?? file.homeManagerProfile,
    darwinCommandsDir: args.values.darwinCommandsDir ?? file.darwinCommandsDir,
  };
}

/** A config file's `prefetch`: true/false or "on"/"off". */
function onOff(value: boolean | string | undefined): string | undefined {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return value;
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

/** The CA file's PEM text, read once at start. */
async function readCa(
  path: string | null,
  sources: ConfigSources,
  errors: string[],
): Promise<string | null> {
  if (path === null) return null;
  try {
    const pem = await sources.readTextFile(path);
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      errors.push(`CA file ${path} holds no PEM certificate`);
    }
    return pem;
  } catch (error) {
    errors.push(
      `CA file ${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
    return null;
  }
}

/** Where home-manager keeps its profile: the XDG state dir since 23.05, per-user before. */
function homeManagerProfiles(env: ConfigSources['env']): string[] {
  const home = nonEmpty(env.HOME);
  const user = nonEmpty(env.USER);
  return [
    ...(home
      ? [`${nonEmpty(env.XDG_STATE_HOME) ?? `${home}/.local/state`}/nix/profiles/home-manager`]
      : []),
    ...(user ? [`/nix/var/nix/profiles/per-user/${user}/home-manager`] : []),
  ];
}

/** The short, lowercased hostname, so "Web-1.example.org" becomes "web-1". */
function defaultHost(sources: ConfigSources): string {
  return (sources.hostname().split('.')[0] ?? '').toLowerCase();
}

/** Variables that would hand the agent's secrets to activation scripts and Nix. */
const SECRET_VARIABLES = new Set([ENROLLMENT_TOKEN_VARIABLE, 'FLOTILLA_AGENT_TOKEN']);

function childEnvironment(env: ConfigSources['env']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !SECRET_VARIABLES.has(name)) result[name] = value;
  }
  return result;
}
