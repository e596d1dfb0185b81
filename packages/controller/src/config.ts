import { accessSync, constants, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BranchName,
  FlakeDir,
  HostOutputKind,
  Policy,
  repositoryUrlKind,
  repositoryUrlProblem,
} from '@flotilla/protocol';
import {
  loadNotificationSecrets,
  NotificationsConfig,
  type Receiver,
} from './notifications/notifications.config.js';
import { DeployWindow } from './rollout/deploy-window.js';
import * as z from 'zod';
import { urlHasPassword } from './git/redact.js';

const Listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:8080')
  .transform((value) => {
    const index = value.lastIndexOf(':');
    return {
      host: value.slice(0, index).replace(/^\[|\]$/g, ''),
      port: Number(value.slice(index + 1)),
    };
  })
  .refine((l) => l.port <= 65535, 'port must be at most 65535');

/** The linked flake repository (the API can link one too, unless this locks it). */
export const RepositoryConfig = z
  .object({
    /**
     * https://… (token auth) or ssh://… / git@host:… (deploy key); here, unlike through the
     * API, also http:// (never with a token), file:// or an absolute local path.
     */
    url: z
      .string()
      .min(1)
      // Passwords in URLs end up in process lists and git's config; tokens go in tokenFile.
      .refine((url) => !urlHasPassword(url), 'must not contain a password: use tokenFile')
      .refine(
        (url) => repositoryUrlKind(url) !== undefined,
        'must be an https://, http://, ssh://, user@host:path or file:// URL, or an absolute path',
      ),
    branch: BranchName.default('main'),
    /** Subdirectory of the repository holding flake.nix; '' for the root. */
    flakeDir: FlakeDir.default(''),
    /**
     * File holding an HTTPS access token (GitHub: a fine-grained token with contents:read,
     * or contents:read and write when the web editor commits).
     */
    tokenFile: z.string().min(1).optional(),
    /** Private key file for ssh URLs (a deploy key). */
    sshKeyFile: z.string().min(1).optional(),
    pollIntervalSeconds: z.number().int().min(5).max(86400).default(60),
    /** Follow a rewritten branch (force push). Off by default: it is reported instead. */
    allowForcePush: z.boolean().default(false),
    /** File holding the GitHub webhook secret (or env FLOTILLA_WEBHOOK_SECRET). */
    webhookSecretFile: z.string().min(1).optional(),
    previews: z
      .object({
        /** Refs that may be previewed on request (glob with `*`). */
        refPatterns: z.array(z.string().min(1)).default(['refs/pull/*/head']),
        /** Refs previewed automatically when they appear or move. */
        autoRefPatterns: z.array(z.string().min(1)).default([]),
        /** Auto-preview only heads that change one of these files (e.g. flake.lock); empty: any change. */
        autoWhenChanged: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({ refPatterns: ['refs/pull/*/head'], autoRefPatterns: [], autoWhenChanged: [] }),
  })
  .strict();
export type RepositoryConfig = z.infer<typeof RepositoryConfig>;

/** A file path handed to ssh through `NIX_SSHOPTS`, which Nix splits at whitespace. */
const SshPath = z.string().regex(/^\/\S+$/, 'must be an absolute path without whitespace');

export const BuildsConfig = z
  .object({
    /** Builds run at the same time. */
    concurrency: z.number().int().min(1).max(64).default(1),
    timeoutSeconds: z
      .number()
      .int()
      .min(10)
      .max(7 * 86400)
      .default(3 * 3600),
    /** Nix `builders` for every host, e.g. `ssh-ng://builder@gpc0 x86_64-linux /key 8 1 big-parallel`. */
    builders: z.string().optional(),
    /** Per-host `builders`, overriding the global one. */
    hostBuilders: z.record(z.string(), z.string()).default({}),
    /** Build only on the remote builders (`--max-jobs 0`). */
    remoteOnly: z.boolean().default(false),
    /** Nix `builders-use-substitutes`: builders fetch inputs from their own substituters. */
    buildersUseSubstitutes: z.boolean().default(true),
    /**
     * ssh settings for reaching the builders, as file paths (the key never enters the
     * config or the store). They reach Nix's ssh as `NIX_SSHOPTS`, which applies when the
     * controller's Nix builds in-process (root, no nix-daemon); with a nix-daemon the
     * daemon connects as root: use the key and host key fields of the builders spec instead.
     */
    sshKeyFile: SshPath.optional(),
    /** known_hosts with the builders' host keys; unknown hosts are refused. */
    sshKnownHostsFile: SshPath.optional(),
    /** An ssh_config (`ssh -F`) for port, user or jump host of the builders. */
    sshConfigFile: SshPath.optional(),
    /** Stored log per build; past this a truncation marker is kept. */
    logLimitBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(4 * 1024 * 1024),
  })
  .strict();
export type BuildsConfig = z.infer<typeof BuildsConfig>;

export const CacheConfig = z
  .object({
    /** Name in the signing key, shown in `trusted-public-keys`. */
    keyName: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .optional(),
    /** Also push release closures to this Nix store URL (s3://…, an Attic or other cache). */
    pushTo: z
      .string()
      .min(1)
      .max(4096)
      // It reaches Nix as a setting line (see cache/push-target.ts): one line, no spaces.
      .regex(/^[^\s]+$/, 'must be a store URL without whitespace')
      .optional(),
  })
  .strict();
export type CacheConfig = z.infer<typeof CacheConfig>;

/** How deployments run on hosts; per-host entries override the defaults. */
export const DeploymentsConfig = z
  .object({
    /** Seconds a host has after activating to pass health checks and be confirmed. */
    confirmTimeoutSeconds: z.number().int().min(5).max(3600).default(90),
    /** A deployment to an offline host waits this long, then ends `expired`. */
    queueExpirySeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86400)
      .default(86400),
  })
  .strict();
export type DeploymentsConfig = z.infer<typeof DeploymentsConfig>;

const GraduationDays = z.number().min(0).max(3650);

/**
 * A host that must be on `auto` first: its name, or `{ host, stableDays }` when it must also
 * have run on `auto` that many days without a failed deployment or rollback (the guinea pig
 * proving itself).
 */
export const GraduationPrerequisite = z.union([
  z.string().min(1),
  z.object({ host: z.string().min(1), stableDays: GraduationDays }).strict(),
]);
export type GraduationPrerequisite = z.infer<typeof GraduationPrerequisite>;

/** What a host must show before it may be promoted to `auto`. */
export const GraduationCriteria = z
  .object({
    /** Days without a failed deployment or rollback. */
    stableDays: GraduationDays.optional(),
    /** Hosts that must be on `auto` first (e.g. the guinea pig), each maybe for some days. */
    after: z.array(GraduationPrerequisite).default([]),
  })
  .strict();
export type GraduationCriteria = z.infer<typeof GraduationCriteria>;

export const HostSettings = z
  .object({
    confirmTimeoutSeconds: z.number().int().min(5).max(3600).optional(),
    /**
     * Moved to the agent's own config: health checks run as root on the host, so only the
     * host's config may declare them. Accepted here only to say so.
     */
    healthChecks: z
      .unknown()
      .optional()
      .refine((value) => value === undefined, {
        message:
          "health checks moved to each agent's own config (healthChecks in its --config file); remove them here",
      }),
    /** Declaring the policy here locks it: the API cannot change it. */
    policy: Policy.optional(),
    /** Allow-windows for deployments; none = any time. */
    windows: z.array(DeployWindow).max(32).default([]),
    graduation: GraduationCriteria.optional(),
    /**
     * Ask the host's agent to prepare each waiting deployment (fetch its closure ahead and
     * tell what it will change). On by default; off for a host whose link is metered or
     * whose disk is small. The agent's own config can refuse it too.
     */
    prefetch: z.boolean().default(true),
    /**
     * The flake output that declares the host, evaluated (never built for darwin and
     * home-manager) to tell its drift: `nixos` (`nixosConfigurations.<attribute>`, the
     * default), `darwin` (`darwinConfigurations.<attribute>.system`) or `home-manager`
     * (`homeConfigurations."<attribute>".activationPackage`, e.g. "markus@imac0").
     * `attribute` defaults to the host's name.
     */
    output: z
      .object({
        kind: HostOutputKind,
        attribute: z.string().min(1).max(256).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type HostSettings = z.infer<typeof HostSettings>;

/** Ordered rollout waves: a revision reaches wave N+1 after wave N succeeded and soaked. */
export const Wave = z
  .object({
    name: z.string().min(1).max(100),
    hosts: z.array(z.string().min(1)).min(1),
    /** Seconds wave members must stay healthy after deploying before the next wave starts. */
    soakSeconds: z
      .number()
      .int()
      .min(0)
      .max(90 * 86400)
      .default(0),
    windows: z.array(DeployWindow).max(32).default([]),
    graduation: GraduationCriteria.optional(),
  })
  .strict();
export type Wave = z.infer<typeof Wave>;

/** People: sessions, step-up, lockout, the first admin, an optional authenticating proxy. */
export const AuthConfig = z
  .object({
    /**
     * A file holding the first admin's password (created once, while no user exists).
     * Without it the first start prints a one-time setup token instead.
     */
    initialAdminPasswordFile: z.string().min(1).optional(),
    initialAdminUsername: z
      .string()
      .regex(/^[a-z][a-z0-9._-]{1,39}$/)
      .default('admin'),
    sessionIdleMinutes: z
      .number()
      .int()
      .min(5)
      .max(30 * 24 * 60)
      .default(8 * 60),
    sessionMaxHours: z
      .number()
      .int()
      .min(1)
      .max(90 * 24)
      .default(7 * 24),
    /** A TOTP code given for a destructive action holds this long in a session. */
    stepUpMinutes: z.number().int().min(1).max(60).default(5),
    lockoutAfter: z.number().int().min(3).max(100).default(5),
    lockoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(15),
    /**
     * Trust an authenticating proxy (Traefik forward-auth, oauth2-proxy) to name the user
     * in a header. Off unless set; only requests from these addresses may use the header.
     */
    proxy: z
      .object({
        userHeader: z.string().regex(/^[A-Za-z0-9-]+$/),
        /** Addresses or CIDR ranges of the proxy. */
        addresses: z
          .array(z.string().refine(isAddressOrRange, 'must be an IP address or CIDR range'))
          .min(1),
      })
      .strict()
      .optional(),
  })
  .strict();
export type AuthConfig = z.infer<typeof AuthConfig>;
/** An IP address or CIDR range (`10.0.0.0/8`, `fd00::/8`), as `trustedProxies` takes them. */
function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return (
    prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (version === 6 ? 128 : 32))
  );
}

/** Lockouts after failed authentication, per client address (see support/rate-limit.ts). */
export const FailureLimitConfig = z
  .object({
    maxFailures: z.number().int().min(1).max(100_000),
    windowSeconds: z.number().int().min(1).max(86_400),
    lockoutSeconds: z.number().int().min(1).max(86_400),
    maxLockoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400),
  })
  .strict();
export type FailureLimitConfig = z.infer<typeof FailureLimitConfig>;

const PEOPLE_FAILURES = {
  maxFailures: 10,
  windowSeconds: 300,
  lockoutSeconds: 60,
  maxLockoutSeconds: 3600,
};
// Hosts reconnect by themselves: a host with a stale token fails every minute or so.
const HOST_FAILURES = {
  maxFailures: 30,
  windowSeconds: 300,
  lockoutSeconds: 60,
  maxLockoutSeconds: 900,
};

export const LimitsConfig = z
  .object({
    /** Failed logins and API tokens on the API (per client address; accounts lock on their own). */
    apiFailures: FailureLimitConfig.default(PEOPLE_FAILURES),
    /** Webhook deliveries with a bad signature. */
    webhookFailures: FailureLimitConfig.default(PEOPLE_FAILURES),
    /** Agent connections and cache requests with a bad host token. */
    hostFailures: FailureLimitConfig.default(HOST_FAILURES),
    /** Agent WebSocket connections open at once from one address (a home NAT: all its hosts). */
    agentConnectionsPerAddress: z.number().int().min(1).max(1_000_000).default(100),
    /** Agent WebSocket connections open at once in all. */
    agentConnectionsTotal: z.number().int().min(1).max(1_000_000).default(20_000),
  })
  .strict();
export type LimitsConfig = z.infer<typeof LimitsConfig>;

/** Set to `true` by scripts/bundle.mjs in the bundled programs; undeclared otherwise. */
declare const __FLOTILLA_BUNDLE__: boolean | undefined;

/**
 * Where `npm run build` puts the web UI: `web/` beside the bundled controller, or the web
 * package's build from this file's place in the checkout (src or dist).
 */
export const DEFAULT_WEB_DIR = fileURLToPath(
  typeof __FLOTILLA_BUNDLE__ !== 'undefined'
    ? new URL('./web', import.meta.url)
    : new URL('../../web/dist/app', import.meta.url),
);

export const ControllerConfig = z
  .object({
    /** Where the database, cache keys and the one-time setup token live. */
    stateDir: z.string().min(1).default('/var/lib/flotilla'),
    listen: Listen.default({ host: '127.0.0.1', port: 8080 }),
    /** `sqlite:<file>` or `postgres://…`; default: SQLite file `flotilla.db` in stateDir. */
    databaseUrl: z.string().min(1).optional(),
    /**
     * A file holding `databaseUrl`, for a PostgreSQL URL with a password: read once at start,
     * so the password stays out of the config file, the environment and the Nix store.
     */
    databaseUrlFile: z.string().min(1).optional(),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /**
     * The URL agents use to reach this controller (https://fleet.example.org behind a
     * proxy). Default: derived from the Host header an agent connected with.
     */
    publicUrl: z.url().optional(),
    /**
     * Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR ranges, e.g.
     * Traefik's `172.18.0.2` or `10.0.0.0/8`); none by default. Client addresses in logs and
     * rate limits come from it; from anyone else the header is ignored.
     */
    trustedProxies: z
      .array(z.string().refine(isAddressOrRange, 'must be an IP address or CIDR range'))
      .max(256)
      .default([]),
    limits: LimitsConfig.default(LimitsConfig.parse({})),
    /**
     * The built web UI (`index.html` and `assets/`); default: `packages/web/dist/app` of the
     * checkout the controller runs from. Served at `/`.
     */
    webDir: z.string().min(1).optional(),
    repository: RepositoryConfig.optional(),
    builds: BuildsConfig.default(BuildsConfig.parse({})),
    cache: CacheConfig.default({}),
    deployments: DeploymentsConfig.default({
      confirmTimeoutSeconds: 90,
      queueExpirySeconds: 86400,
    }),
    auth: AuthConfig.default(AuthConfig.parse({})),
    /** Per-host settings: policy, windows, graduation, confirm timeout. */
    hosts: z.record(z.string(), HostSettings).default({}),
    rollout: z
      .object({ waves: z.array(Wave).max(50).default([]) })
      .strict()
      .default({ waves: [] }),
    notifications: NotificationsConfig.default({ webhooks: [], ntfy: [], offlineAfterMinutes: 10 }),
    agents: z
      .object({
        heartbeatIntervalSeconds: z.number().positive().max(3600).default(15),
        missedHeartbeatsAllowed: z.number().int().min(2).max(100).default(3),
        snapshotIntervalSeconds: z.number().positive().max(3600).default(60),
      })
      .strict()
      .default({
        heartbeatIntervalSeconds: 15,
        missedHeartbeatsAllowed: 3,
        snapshotIntervalSeconds: 60,
      }),
  })
  .strict();
export type ControllerConfig = z.infer<typeof ControllerConfig> & {
  secrets: Secrets;
  /**
   * The environment child processes (nix, git, ssh) start from: only the variables they
   * need from the controller's own environment, never Flotilla's settings or secrets.
   */
  childEnv: Record<string, string>;
};

/** Variables a child may need: search path, identity, locale, temp dir, Nix and TLS settings. */
const CHILD_ENV_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'TZ',
  'TMPDIR',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'SSH_AUTH_SOCK',
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_STATE_HOME',
]);

/** The base environment of child processes (see {@link ControllerConfig.childEnv}). */
export function childEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (CHILD_ENV_NAMES.has(name) || name.startsWith('NIX_') || name.startsWith('LC_'))
      out[name] = value;
  }
  return out;
}

/** The shortest GitHub webhook secret the controller accepts. */
export const MIN_WEBHOOK_SECRET_LENGTH = 20;

/** Secrets read once at start from files or env; never logged, never stored in the database. */
export interface Secrets {
  webhookSecret?: string;
  /** The first admin's password, from `auth.initialAdminPasswordFile`. */
  initialAdminPassword?: string;
  repositoryToken?: string;
  notificationReceivers?: Receiver[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const USAGE = `usage: flotilla-controller [--config FILE] [--state-dir DIR] [--listen HOST:PORT]
       flotilla-controller backup --to FILE [--config FILE] [--state-dir DIR]

Configuration is read from FILE (JSON), then environment variables, then flags:
  FLOTILLA_CONFIG                      path of the JSON config file
  FLOTILLA_STATE_DIR                   state directory (database, keys, setup token)
  FLOTILLA_LISTEN                      HOST:PORT to listen on (default 127.0.0.1:8080)
  FLOTILLA_DATABASE_URL                sqlite:<file> or postgres://… (default SQLite in the state dir;
                                       a URL with a password: prefer databaseUrlFile)
  FLOTILLA_LOG_LEVEL                   fatal|error|warn|info|debug|trace|silent
  FLOTILLA_HEARTBEAT_INTERVAL_SECONDS  how often agents send heartbeats (default 15)
  FLOTILLA_PUBLIC_URL                  URL agents use to reach the controller
  FLOTILLA_WEB_DIR                     the built web UI (default packages/web/dist/app)
  FLOTILLA_TRUSTED_PROXIES             reverse proxies whose X-Forwarded-For is believed
                                       (comma-separated addresses or CIDR ranges; default none)
  FLOTILLA_REPOSITORY_URL              flake repository to track (see docs for the config file's
  FLOTILLA_REPOSITORY_BRANCH           "repository" section with tokens, deploy keys, previews)
  FLOTILLA_WEBHOOK_SECRET              GitHub webhook secret (prefer repository.webhookSecretFile)
  FLOTILLA_REPOSITORY_TOKEN            HTTPS token for the repository (prefer repository.tokenFile)`;

/**
 * Reads the configuration once: file, then env, then flags. Every problem is collected
 * and reported together, so a broken config is fixed in one round.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ControllerConfig {
  const problems: string[] = [];
  let flags: Record<string, string | boolean | undefined> = {};
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string' },
        'state-dir': { type: 'string' },
        listen: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (error) {
    problems.push((error as Error).message);
  }

  let file: Record<string, unknown> = {};
  const configPath = (flags.config as string | undefined) ?? env.FLOTILLA_CONFIG;
  if (configPath !== undefined) {
    try {
      const data: unknown = JSON.parse(readFileSync(configPath, 'utf8'));
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        problems.push(`${configPath}: must contain a JSON object`);
      } else {
        file = data as Record<string, unknown>;
      }
    } catch (error) {
      problems.push(`${configPath}: ${(error as Error).message}`);
    }
  }

  const merged: Record<string, unknown> = { ...file };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) merged[key] = value;
  };
  set('stateDir', env.FLOTILLA_STATE_DIR);
  set('listen', env.FLOTILLA_LISTEN);
  set('databaseUrl', env.FLOTILLA_DATABASE_URL);
  set('logLevel', env.FLOTILLA_LOG_LEVEL);
  if (env.FLOTILLA_HEARTBEAT_INTERVAL_SECONDS !== undefined) {
    merged.agents = {
      ...(typeof file.agents === 'object' ? file.agents : {}),
      heartbeatIntervalSeconds: Number(env.FLOTILLA_HEARTBEAT_INTERVAL_SECONDS),
    };
  }
  set('publicUrl', env.FLOTILLA_PUBLIC_URL);
  set('webDir', env.FLOTILLA_WEB_DIR);
  set(
    'trustedProxies',
    env.FLOTILLA_TRUSTED_PROXIES?.split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
  );
  if (env.FLOTILLA_REPOSITORY_URL !== undefined || env.FLOTILLA_REPOSITORY_BRANCH !== undefined) {
    const fromFile = typeof file.repository === 'object' && file.repository ? file.repository : {};
    merged.repository = {
      ...fromFile,
      ...(env.FLOTILLA_REPOSITORY_URL !== undefined ? { url: env.FLOTILLA_REPOSITORY_URL } : {}),
      ...(env.FLOTILLA_REPOSITORY_BRANCH !== undefined
        ? { branch: env.FLOTILLA_REPOSITORY_BRANCH }
        : {}),
    };
  }
  set('stateDir', flags['state-dir']);
  set('listen', flags.listen);

  const parsed = ControllerConfig.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
  }
  if (parsed.success) problems.push(...graduationProblems(parsed.data));
  const secrets = parsed.success ? readSecrets(parsed.data, env, problems) : {};
  const databaseUrl = parsed.success ? readDatabaseUrl(parsed.data, problems) : undefined;
  if (parsed.success) {
    const loaded = loadNotificationSecrets(parsed.data.notifications, (path) =>
      readFileSync(path, 'utf8'),
    );
    problems.push(...loaded.problems);
    secrets.notificationReceivers = loaded.receivers;
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return {
    ...parsed.data,
    databaseUrl,
    stateDir: resolve(parsed.data.stateDir),
    webDir: resolve(parsed.data.webDir ?? DEFAULT_WEB_DIR),
    secrets,
    childEnv: childEnvironment(env),
  };
}

function readSecrets(
  config: z.infer<typeof ControllerConfig>,
  env: NodeJS.ProcessEnv,
  problems: string[],
): Secrets {
  const repository = config.repository;
  const fromFile = (what: string, path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    try {
      const value = readFileSync(path, 'utf8').trim();
      if (value === '') problems.push(`${what}: ${path} is empty`);
      return value;
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const secrets: Secrets = {};
  const webhookSecret =
    fromFile('repository.webhookSecretFile', repository?.webhookSecretFile) ??
    env.FLOTILLA_WEBHOOK_SECRET;
  if (webhookSecret !== undefined && webhookSecret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    // The secret is all that stands between the public webhook and a sync (and, with
    // automatic previews, a build): a short one could be guessed offline from one delivery.
    problems.push(
      `the GitHub webhook secret must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters ` +
        '(e.g. `openssl rand -hex 32`)',
    );
  } else if (webhookSecret) secrets.webhookSecret = webhookSecret;
  const repositoryToken =
    fromFile('repository.tokenFile', repository?.tokenFile) ?? env.FLOTILLA_REPOSITORY_TOKEN;
  if (repositoryToken) secrets.repositoryToken = repositoryToken;
  const adminPassword = fromFile(
    'auth.initialAdminPasswordFile',
    config.auth.initialAdminPasswordFile,
  );
  if (adminPassword !== undefined && adminPassword.length < 12) {
    problems.push('auth.initialAdminPasswordFile: the password must have at least 12 characters');
  } else if (adminPassword) secrets.initialAdminPassword = adminPassword;
  for (const key of ['sshKeyFile', 'sshKnownHostsFile', 'sshConfigFile'] as const) {
    const path = config.builds[key];
    if (path === undefined) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (error) {
      problems.push(`builds.${key}: ${(error as Error).message}`);
    }
  }
  const urlProblem =
    repository === undefined
      ? undefined
      : repositoryUrlProblem(repository.url, 'config', { token: repositoryToken !== undefined });
  if (urlProblem !== undefined) problems.push(`repository.url: ${urlProblem}`);
  return secrets;
}

/**
 * Every host a graduation's `after` names must be one the config knows (under `hosts` or in
 * a wave), so a misspelt name is an error at start, not a host that never graduates; and
 * none may wait for itself.
 */
function graduationProblems(config: z.infer<typeof ControllerConfig>): string[] {
  const known = new Set([
    ...Object.keys(config.hosts),
    ...config.rollout.waves.flatMap((wave) => wave.hosts),
  ]);
  const owners = [
    ...Object.entries(config.hosts).map(([name, host]) => ({
      path: `hosts.${name}.graduation`,
      members: [name],
      criteria: host.graduation,
    })),
    ...config.rollout.waves.map((wave, index) => ({
      path: `rollout.waves.${index}.graduation`,
      members: wave.hosts,
      criteria: wave.graduation,
    })),
  ];
  const problems: string[] = [];
  for (const { path, members, criteria } of owners) {
    for (const [index, entry] of (criteria?.after ?? []).entries()) {
      const host = prerequisiteHost(entry);
      const at = `${path}.after.${index}: "${host}"`;
      if (!known.has(host)) {
        problems.push(`${at} is not a host of this config (name it under hosts or in a wave)`);
      } else if (members.length === 1 && members[0] === host) {
        problems.push(`${at} cannot wait for itself`);
      } else if (members.includes(host)) {
        problems.push(`${at} is in this wave: a host cannot wait for itself`);
      }
    }
  }
  return problems;
}

/** The host a graduation prerequisite names. */
export function prerequisiteHost(entry: GraduationPrerequisite): string {
  return typeof entry === 'string' ? entry : entry.host;
}

/** `databaseUrl`, or the content of `databaseUrlFile` (never both). */
function readDatabaseUrl(
  config: z.infer<typeof ControllerConfig>,
  problems: string[],
): string | undefined {
  if (config.databaseUrlFile === undefined) return config.databaseUrl;
  if (config.databaseUrl !== undefined) {
    problems.push('databaseUrlFile: set databaseUrl or databaseUrlFile, not both');
    return undefined;
  }
  try {
    const url = readFileSync(config.databaseUrlFile, 'utf8').trim();
    if (url === '') problems.push(`databaseUrlFile: ${config.databaseUrlFile} is empty`);
    return url === '' ? undefined : url;
  } catch (error) {
    problems.push(`databaseUrlFile: ${(error as Error).message}`);
    return undefined;
  }
}

export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
