import * as z from 'zod';
import { ConfigFile } from './config.js';

/**
 * What each key of the agent's `--config` file means, for docs/CONFIGURATION.md (`npm run
 * docs:config`). The generator (scripts/src/config-reference.ts) takes each key's type from
 * `ConfigFile`, its flag from `FLAGS`, its variable from `ENV_NAMES` and its default from
 * `DEFAULTS`, and refuses a key missing here or an entry here that is no key, so the
 * reference cannot drift from what `loadConfig` accepts.
 */
export interface AgentSettingDescription {
  description: string;
  /** A variable that sets it besides `ENV_NAMES` (in a form of its own). */
  env?: string;
  /** The default in Markdown, where `DEFAULTS` has none. */
  defaultText?: string;
  /** The type as people read it, where the schema's is not telling. */
  typeText?: string;
}

/** The config file itself, which is not one of its keys. */
export const AGENT_CONFIG_FILE = {
  flag: '--config FILE',
  env: 'FLOTILLA_AGENT_CONFIG',
  description:
    'Flags override environment variables, which override the file. ' +
    'Unknown keys are errors; every problem is listed at once and the agent exits with code 2.',
} as const;

/** Every key of the agent's config file. */
export const AGENT_SETTINGS: Readonly<Record<string, AgentSettingDescription>> = {
  controllerUrl: {
    description:
      "The controller's agent gateway, e.g. `wss://fleet.example.org/api/v1/agent/ws` " +
      '(required). `ws://` only to a controller on the same machine (loopback). The agent ' +
      'enrolls at, and fetches closures only from, this origin.',
  },
  caFile: {
    description:
      "PEM file of the CA (or self-signed certificate) the controller's TLS certificate must " +
      "chain to, instead of the system's (also given to Nix for cache fetches).",
  },
  certificatePin: {
    description:
      "Also require this `sha256//<base64>` SHA-256 of the controller certificate's public key " +
      '(SPKI), as curl writes it.',
  },
  host: {
    description: "This host's name in the fleet: a lowercase DNS label.",
    defaultText: 'the short hostname, lowercased',
  },
  enrollmentTokenFile: {
    description:
      'File holding the one-time enrollment token from `flotilla host add` or `flotilla host ' +
      'enroll`. Read only while the agent is not enrolled, or when it holds a new token (a ' +
      're-enrollment). Keep it root-only.',
    env: 'FLOTILLA_AGENT_ENROLLMENT_TOKEN (the token itself, kept out of child processes)',
  },
  trustedPublicKeys: {
    description:
      "Keys (`NAME:BASE64`) every closure must be signed with: the controller's cache key, as " +
      '`flotilla cache` shows it. Required on managed hosts; list two while rotating the key.',
    env: 'FLOTILLA_TRUSTED_PUBLIC_KEYS (separated by spaces)',
  },
  healthChecks: {
    description:
      'Checks run as root after each activation, before the controller confirms it (at most ' +
      '32): `{"kind": "unit", "unit": "sshd.service"}`, `{"kind": "http", "url": "http://127.0.0.1/health"}`, ' +
      '`{"kind": "command", "argv": ["/run/check"]}`. Only in the file: never from the controller.',
    typeText: 'list of objects',
    defaultText: '`[]`',
  },
  mode: {
    description:
      '`managed` hosts are deployed to; `monitor` hosts report facts and refuse deployments and reboots.',
  },
  stateDir: {
    description:
      'Agent state: its Ed25519 key (`identity/agent-key.pem`, 0600), the deployment journal, ' +
      'undelivered results, activation records, GC roots (see docs/INFRASTRUCTURE.md).',
  },
  profile: { description: 'The system profile deployments set (`nix-env --set`) and roll back.' },
  currentSystemLink: { description: 'The running system.' },
  bootedSystemLink: {
    description: 'The booted system (a reboot is needed when kernel or initrd differ).',
  },
  disks: {
    description: 'Mounts whose usage is reported (at most 16); the flag is repeatable.',
  },
  logLevel: { description: 'Least severe log level written (JSON lines on standard output).' },
  reconnectMaxSeconds: {
    description: 'Longest wait between reconnect attempts (capped, jittered exponential backoff).',
    typeText: 'number > 0',
  },
  activation: {
    description:
      'How `switch-to-configuration` outlives the agent: `systemd-run` (a transient unit), ' +
      '`detached` (a process in its own session), or `auto`: `systemd-run` where systemd runs.',
  },
  rebootCommand: {
    description:
      'Program and arguments run to reboot on request; split on spaces, never given to a shell.',
    defaultText: '`systemctl reboot` with systemd, else `reboot`',
  },
  prefetch: {
    description:
      "`on`: when the controller asks, fetch a waiting deployment's closure ahead (checked like " +
      'any fetch) and run its `switch-to-configuration dry-activate` to tell what it would ' +
      'change. `off`: nothing of a new system is fetched or run before a deployment starts.',
  },
  homeManagerProfile: {
    description:
      'On a Mac: the home-manager profile whose generation and date are reported (monitor mode).',
    defaultText:
      '`$XDG_STATE_HOME/nix/profiles/home-manager`, then the per-user profile under `/nix/var/nix/profiles`',
  },
  darwinCommandsDir: {
    description:
      'Test and demo facility: run the macOS collector on Linux with the programs (`sw_vers`, ' +
      '`sysctl`, …) found in this folder; the agent then reports as a Mac in monitor mode.',
  },
  bootIdFile: { description: 'Where the boot id is read, to notice a reboot.' },
  hostnameFile: {
    description:
      "Where the hostname reported in facts is read (where missing, the system's hostname).",
  },
  machineIdFile: { description: 'Where the machine id reported in facts is read.' },
  tokenFile: {
    description:
      'Retired with static agent tokens (also `--token-file`, `FLOTILLA_AGENT_TOKEN`, ' +
      '`FLOTILLA_AGENT_TOKEN_FILE`): setting it is an error saying to enroll with ' +
      '`enrollmentTokenFile` instead.',
    typeText: 'retired',
  },
};

/** The config file's schema as JSON Schema. */
export function agentConfigFileJsonSchema(): unknown {
  return z.toJSONSchema(ConfigFile, { io: 'input', unrepresentable: 'any' });
}
