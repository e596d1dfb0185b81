import * as z from 'zod';
import { ControllerConfig } from './config.js';

/**
 * What each setting of the controller's config file means, for docs/CONFIGURATION.md
 * (`npm run docs:config`). Keys are paths into the config: `a.b` for a nested key,
 * `<name>` for an entry of a map keyed by the user (`hosts.<name>.policy`), `[]` for each
 * element of a list (`rollout.waves[].name`). The generator (scripts/src/config-reference.ts)
 * walks the schema and refuses every path missing here and every entry here the schema
 * lacks, and a unit test compares its output with the committed file, so the reference
 * cannot drift from what `loadConfig` accepts.
 */
export interface SettingDescription {
  description: string;
  /** Environment variable that sets it (it overrides the file). */
  env?: string;
  /** Command-line flag that sets it (it overrides the environment). */
  flag?: string;
  /** The default in Markdown, where the schema's own cannot say it. */
  defaultText?: string;
  /** The type in words, where the schema's own reads badly (a list of alternatives). */
  typeText?: string;
}

/** Settings outside the file: where the file is, and `--help`. */
export const CONTROLLER_CONFIG_FILE = {
  flag: '--config FILE',
  env: 'FLOTILLA_CONFIG',
  description:
    'Settings come from it, then from environment variables, then from flags (a later source ' +
    'wins). Unknown keys are errors, and every problem is listed at once.',
} as const;

const failureLimit = (path: string, what: string): Record<string, SettingDescription> => ({
  [path]: { description: `Lockout of a client address after failed ${what}.` },
  [`${path}.maxFailures`]: {
    description: 'Failures allowed within the window; the next one locks the address out.',
  },
  [`${path}.windowSeconds`]: { description: 'Window in which failures are counted.' },
  [`${path}.lockoutSeconds`]: {
    description: 'First lockout; each further lockout doubles it, up to the maximum.',
  },
  [`${path}.maxLockoutSeconds`]: { description: 'Longest lockout.' },
});

const windows = (path: string, owner: string): Record<string, SettingDescription> => ({
  [path]: {
    description:
      `When ${owner} may be deployed to (deploy windows); none: at any time. An approved ` +
      'deployment waits for its window to open, unless a person forces it with a reason.',
  },
  [`${path}[].days`]: {
    description:
      'Days the window starts on (`mon` … `sun`); omitted: every day. A window whose end is ' +
      'not after its start crosses midnight.',
  },
  [`${path}[].start`]: { description: 'Local start time, `HH:MM`.' },
  [`${path}[].end`]: { description: 'Local end time, `HH:MM` (not inside the window).' },
  [`${path}[].timeZone`]: {
    description:
      'IANA time zone of `start` and `end`, e.g. `Europe/Vienna`; daylight saving is handled.',
  },
});

const graduation = (path: string, owner: string): Record<string, SettingDescription> => ({
  [path]: {
    description: `What ${owner} must show before \`flotilla graduation\` calls it eligible for \`auto\`.`,
  },
  [`${path}.stableDays`]: {
    description: 'Days without a failed deployment or a rollback.',
  },
  [`${path}.after`]: {
    description:
      'Hosts that must be on `auto` first: a name (e.g. the guinea pig `"gpc0"`), or ' +
      '`{ "host": "gpc0", "stableDays": 14 }` when it must also have run on `auto` that many ' +
      'days since going on it and since its last failed deployment or rollback. Each must be a ' +
      'host of this config (under `hosts` or in a wave).',
    typeText: 'list of host names or `{ host, stableDays }`',
  },
});

const receiverEvents: SettingDescription = {
  description: 'Notification kinds this receiver gets; omitted: all of them.',
};

/** Every setting of {@link ControllerConfig}, by path. */
export const CONTROLLER_SETTINGS: Readonly<Record<string, SettingDescription>> = {
  stateDir: {
    description:
      'State directory: the SQLite database, the cache and its signing key, repository mirrors ' +
      'and tokens, GC roots of builds, the one-time setup token (see docs/INFRASTRUCTURE.md). ' +
      'Created with mode 0700.',
    env: 'FLOTILLA_STATE_DIR',
    flag: '--state-dir DIR',
  },
  listen: {
    description:
      '`HOST:PORT` the HTTP server listens on (API, agent WebSocket, cache, web UI). Keep it on ' +
      'loopback or a private address behind a TLS proxy.',
    env: 'FLOTILLA_LISTEN',
    flag: '--listen HOST:PORT',
    defaultText: '`127.0.0.1:8080`',
  },
  databaseUrl: {
    description:
      '`sqlite:<file>`, or `postgres://…` for PostgreSQL (the schema is created and migrated ' +
      'at start on either).',
    env: 'FLOTILLA_DATABASE_URL',
    defaultText: '`sqlite:` file `flotilla.db` in `stateDir`',
  },
  databaseUrlFile: {
    description:
      'A file holding the `databaseUrl`, read at start, so a password stays out of the config ' +
      'file, the environment and the Nix store. Set this or `databaseUrl`, not both.',
  },
  logLevel: {
    description: 'Least severe log level written (JSON lines on standard output).',
    env: 'FLOTILLA_LOG_LEVEL',
  },
  publicUrl: {
    description:
      'The URL people and agents reach the controller at (`https://fleet.example.org` behind a ' +
      'proxy): the cache URL sent to agents, an origin agents may sign their hello for, the ' +
      'agent command `flotilla host add` prints; an https one makes the session cookie ' +
      '`Secure` and adds HSTS.',
    env: 'FLOTILLA_PUBLIC_URL',
    defaultText: 'derived from the `Host` header of each request',
  },
  trustedProxies: {
    description:
      'Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (addresses ' +
      "or CIDR ranges, e.g. Traefik's `172.18.0.0/16`). Client addresses in logs and rate " +
      'limits come from them; from anyone else the headers are ignored.',
    env: 'FLOTILLA_TRUSTED_PROXIES (comma-separated)',
  },
  limits: { description: 'Lockouts after failed authentication and caps on agent connections.' },
  ...failureLimit('limits.apiFailures', 'logins and API tokens (accounts also lock on their own)'),
  ...failureLimit('limits.webhookFailures', 'webhook signatures'),
  ...failureLimit('limits.hostFailures', 'agent hellos, enrollments and cache credentials'),
  'limits.agentConnectionsPerAddress': {
    description:
      'Agent WebSocket connections open at once from one address (a home NAT: all its hosts).',
  },
  'limits.agentConnectionsTotal': { description: 'Agent WebSocket connections open at once.' },
  webDir: {
    description: 'The built web UI (`index.html` and `assets/`), served at `/`.',
    env: 'FLOTILLA_WEB_DIR',
    defaultText: '`packages/web/dist/app` of the installation',
  },
  repository: {
    description:
      'The flake repository to track. Set here, it is locked: the API cannot link another. ' +
      'Without it, `flotilla repository link` links one through the API.',
  },
  'repository.url': {
    description:
      '`https://…` (with `tokenFile`), `ssh://…` or `git@host:path` (with `sshKeyFile`); here ' +
      'also `http://` (never with a token), `file://` or an absolute path. No password in it.',
    env: 'FLOTILLA_REPOSITORY_URL',
  },
  'repository.branch': {
    description: 'The branch whose commits become releases.',
    env: 'FLOTILLA_REPOSITORY_BRANCH',
  },
  'repository.flakeDir': {
    description: "Subdirectory holding `flake.nix`; `''` for the repository's root.",
  },
  'repository.tokenFile': {
    description:
      'File holding an HTTPS access token (GitHub fine-grained: Contents read, or read and ' +
      'write for the web editor). Read once at start; reaches git only through a credential helper.',
    env: 'FLOTILLA_REPOSITORY_TOKEN (the token itself; prefer the file)',
  },
  'repository.sshKeyFile': {
    description:
      'Private key for `ssh://` and `git@` URLs (a deploy key; write access for the editor).',
  },
  'repository.pollIntervalSeconds': {
    description: 'How often the branch is fetched when no webhook arrives.',
  },
  'repository.allowForcePush': {
    description: 'Follow a rewritten branch. Off: a force push is reported and not followed.',
  },
  'repository.webhookSecretFile': {
    description:
      "File holding the GitHub webhook's secret (at least 20 characters, e.g. " +
      '`openssl rand -hex 32`). Without a secret the webhook answers nothing useful; polling still works.',
    env: 'FLOTILLA_WEBHOOK_SECRET (the secret itself; prefer the file)',
  },
  'repository.previews': {
    description:
      'Pull-request previews: built on request or automatically, never signed or published.',
  },
  'repository.previews.refPatterns': {
    description: 'Refs that may be previewed on request (`flotilla preview REF`); `*` is a glob.',
  },
  'repository.previews.autoRefPatterns': {
    description:
      "Refs previewed automatically when they appear or move (pull requests only when GitHub's " +
      'signed delivery says their head is in the repository itself, never a fork).',
  },
  'repository.previews.autoWhenChanged': {
    description:
      'Preview automatically only heads that change one of these files (e.g. `flake.lock`).',
  },
  builds: { description: 'How releases are built.' },
  'builds.concurrency': { description: 'Builds running at the same time.' },
  'builds.timeoutSeconds': { description: 'A build running longer is stopped and failed.' },
  'builds.builders': {
    description:
      'Nix `builders` for every host, e.g. `ssh-ng://builder@gpc0 x86_64-linux /etc/flotilla/builder-key 8 1 big-parallel`.',
  },
  'builds.hostBuilders': {
    description:
      "Nix `builders` per host name, overriding `builds.builders` for that host's builds.",
  },
  'builds.remoteOnly': {
    description:
      "Build only on the remote builders (`--max-jobs 0`), never on the controller's machine.",
  },
  'builds.buildersUseSubstitutes': {
    description:
      'Let remote builders fetch dependencies from their own substituters instead of ' +
      'receiving them from the controller (Nix `builders-use-substitutes`).',
  },
  'builds.sshKeyFile': {
    description:
      "Private key for Nix's ssh to the remote builders (a path; passed through " +
      '`NIX_SSHOPTS`, so it applies when the controller builds without a nix-daemon).',
  },
  'builds.sshKnownHostsFile': {
    description: "The builders' host keys; ssh checks them strictly and never asks (a path).",
  },
  'builds.sshConfigFile': {
    description: 'An ssh config file for the connections to the remote builders (a path).',
  },
  'builds.logLimitBytes': {
    description: 'Log kept per build; past it a truncation marker is stored.',
  },
  cache: { description: 'The signed binary cache the controller serves at `/cache`.' },
  'cache.keyName': {
    description:
      'Name inside a new signing key (shown in `trusted-public-keys`). An existing key keeps ' +
      'the name it was created with.',
    defaultText: '`flotilla-<controller hostname>-1`',
  },
  'cache.pushTo': {
    description:
      'Also copy every release closure to this Nix store URL (`s3://…`, an Attic or other ' +
      'cache). Credentials in it reach Nix through a 0600 netrc file, never its command line.',
  },
  deployments: { description: 'How deployments run on hosts; `hosts.<name>` overrides per host.' },
  'deployments.confirmTimeoutSeconds': {
    description:
      'Seconds a host has after activating to pass its health checks and be confirmed; ' +
      'unconfirmed, it rolls back by itself.',
  },
  'deployments.queueExpirySeconds': {
    description: 'A deployment to an offline host waits this long, then ends `expired`.',
  },
  auth: {
    description: 'People: sessions, step-up, lockout, the first admin, an authenticating proxy.',
  },
  'auth.initialAdminPasswordFile': {
    description:
      "File holding the first admin's password (at least 12 characters), used once while no " +
      'user exists. Without it the first start writes a one-time setup token to ' +
      '`<stateDir>/setup-token` instead.',
  },
  'auth.initialAdminUsername': { description: 'Name of the first admin made from that file.' },
  'auth.sessionIdleMinutes': { description: 'A browser session unused this long ends.' },
  'auth.sessionMaxHours': {
    description: 'A browser session ends this long after login in any case.',
  },
  'auth.stepUpMinutes': {
    description: 'A TOTP code given for a destructive action holds this long in a browser session.',
  },
  'auth.lockoutAfter': { description: 'Failed logins in a row that lock an account.' },
  'auth.lockoutMinutes': { description: 'How long a locked account stays locked.' },
  'auth.proxy': {
    description:
      'Trust an authenticating proxy (Traefik forward-auth, oauth2-proxy) to name the user in ' +
      'a header. Off unless set; the user must exist in Flotilla, which gives the role.',
  },
  'auth.proxy.userHeader': { description: 'The header holding the user name.' },
  'auth.proxy.addresses': {
    description:
      'Addresses or CIDR ranges of the proxy; only requests from them may use the header.',
  },
  hosts: { description: 'Per-host settings, keyed by host name.' },
  'hosts.<name>': { description: 'Settings of one host.' },
  'hosts.<name>.confirmTimeoutSeconds': {
    description: "This host's confirm timeout, instead of `deployments.confirmTimeoutSeconds`.",
  },
  'hosts.<name>.healthChecks': {
    description:
      "Retired: health checks run as root on the host, so they live in each agent's own config " +
      '(`healthChecks`). Setting this is an error that says so.',
  },
  'hosts.<name>.policy': {
    description:
      '`manual` (each release waits for approval), `auto` (deploys by itself) or `monitor` ' +
      '(never deploys). Declared here, the policy is locked: the API and CLI refuse to change it.',
    defaultText: 'none: `manual` for a new host, then as set through the API',
  },
  ...windows('hosts.<name>.windows', 'the host'),
  ...graduation('hosts.<name>.graduation', 'the host'),
  'hosts.<name>.prefetch': {
    description:
      "Ask the host's agent to prepare each waiting deployment (fetch its closure ahead, tell " +
      'what it will change). Off for a metered link or a small disk.',
  },
  'hosts.<name>.output': {
    description:
      'The flake output that declares the host, evaluated (never built for nix-darwin and ' +
      'home-manager) to tell whether it runs what the branch head declares.',
    defaultText: '`nixos` output named like the host',
  },
  'hosts.<name>.output.kind': {
    description:
      '`nixos` (`nixosConfigurations.<attribute>`), `darwin` ' +
      '(`darwinConfigurations.<attribute>.system`) or `home-manager` ' +
      '(`homeConfigurations."<attribute>".activationPackage`).',
  },
  'hosts.<name>.output.attribute': {
    description: 'Its attribute name, e.g. `markus@imac0` for a home-manager home.',
    defaultText: "the host's name",
  },
  rollout: { description: 'Staged rollouts.' },
  'rollout.waves': {
    description:
      'Ordered waves: a revision reaches wave N+1 only after wave N succeeded and soaked. ' +
      'Hosts in no wave are not held by waves.',
  },
  'rollout.waves[].name': { description: 'Name shown in approvals and rollouts.' },
  'rollout.waves[].hosts': { description: 'Host names in this wave.' },
  'rollout.waves[].soakSeconds': {
    description: 'Seconds the wave must stay healthy after deploying before the next wave starts.',
  },
  ...windows('rollout.waves[].windows', "the wave's hosts"),
  ...graduation('rollout.waves[].graduation', "each of the wave's hosts"),
  notifications: {
    description: 'Where notifications go (sent from an outbox, retried with backoff).',
  },
  'notifications.webhooks': { description: 'Webhook receivers: JSON bodies by POST.' },
  'notifications.webhooks[].url': { description: 'http(s) URL; no credentials in it.' },
  'notifications.webhooks[].secretFile': {
    description:
      'File holding the HMAC key for `X-Flotilla-Signature-256`; without it bodies are unsigned.',
  },
  'notifications.webhooks[].events': receiverEvents,
  'notifications.ntfy': { description: 'ntfy receivers.' },
  'notifications.ntfy[].server': {
    description: "The ntfy server's base URL, e.g. `https://ntfy.sh`.",
  },
  'notifications.ntfy[].topic': { description: 'The topic (1–64 of `A–Z a–z 0–9 _ -`).' },
  'notifications.ntfy[].tokenFile': {
    description: 'File holding an access token, sent as `Authorization: Bearer`.',
  },
  'notifications.ntfy[].events': receiverEvents,
  'notifications.offlineAfterMinutes': {
    description: 'A host offline for longer than this raises `host.offline`.',
  },
  agents: { description: 'How the controller tells whether agents are online.' },
  'agents.heartbeatIntervalSeconds': {
    description: 'How often agents send a heartbeat (told to each agent when it connects).',
    env: 'FLOTILLA_HEARTBEAT_INTERVAL_SECONDS',
  },
  'agents.missedHeartbeatsAllowed': {
    description: 'Heartbeats an agent may miss before it counts as offline.',
  },
  'agents.snapshotIntervalSeconds': {
    description: 'How often last-seen times and metrics of busy hosts are written to the database.',
  },
};

/** {@link ControllerConfig} as JSON Schema (the input side: what a config file may hold). */
export function controllerConfigJsonSchema(): unknown {
  return z.toJSONSchema(ControllerConfig, { io: 'input', unrepresentable: 'any' });
}
