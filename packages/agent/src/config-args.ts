/** The command-line options the agent accepts, each mapped to its config key. */
export const FLAGS = {
  '--config': { key: 'configFile', value: 'FILE' },
  '--controller-url': { key: 'controllerUrl', value: 'URL' },
  '--host': { key: 'host', value: 'NAME' },
  '--enrollment-token-file': { key: 'enrollmentTokenFile', value: 'PATH' },
  '--trusted-public-key': { key: 'trustedPublicKeys', value: 'NAME:KEY' },
  '--ca-file': { key: 'caFile', value: 'PATH' },
  '--certificate-pin': { key: 'certificatePin', value: 'sha256//BASE64' },
  // Removed in protocol 2; still recognised, so the error can say what replaced it.
  '--token-file': { key: 'tokenFile', value: 'PATH' },
  '--mode': { key: 'mode', value: 'managed|monitor' },
  '--state-dir': { key: 'stateDir', value: 'DIR' },
  '--profile': { key: 'profile', value: 'PATH' },
  '--current-system-link': { key: 'currentSystemLink', value: 'PATH' },
  '--booted-system-link': { key: 'bootedSystemLink', value: 'PATH' },
  '--disk': { key: 'disks', value: 'PATH' },
  '--log-level': { key: 'logLevel', value: 'LEVEL' },
  '--reconnect-max-seconds': { key: 'reconnectMaxSeconds', value: 'N' },
  '--activation': { key: 'activation', value: 'auto|systemd-run|detached' },
  '--reboot-command': { key: 'rebootCommand', value: 'COMMAND' },
  '--prefetch': { key: 'prefetch', value: 'on|off' },
  '--boot-id-file': { key: 'bootIdFile', value: 'PATH' },
  '--hostname-file': { key: 'hostnameFile', value: 'PATH' },
  '--machine-id-file': { key: 'machineIdFile', value: 'PATH' },
  '--home-manager-profile': { key: 'homeManagerProfile', value: 'PATH' },
  '--darwin-commands-dir': { key: 'darwinCommandsDir', value: 'DIR' },
} as const;

type FlagName = keyof typeof FLAGS;
export type FlagKey = (typeof FLAGS)[FlagName]['key'];
/** Options that may be repeated; each collects every value given. */
type ListKey = 'disks' | 'trustedPublicKeys';

export interface ParsedArgs {
  /** Last value given for each single-valued option. */
  values: Partial<Record<Exclude<FlagKey, ListKey>, string>>;
  /** `--disk` may be repeated; empty when not given. */
  disks: string[];
  /** `--trusted-public-key` may be repeated; empty when not given. */
  trustedPublicKeys: string[];
  help: boolean;
  version: boolean;
  errors: string[];
}

function isFlag(name: string): name is FlagName {
  return Object.hasOwn(FLAGS, name);
}

/** Parses `--name value` and `--name=value` options; collects every problem instead of stopping. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = {
    values: {},
    disks: [],
    trustedPublicKeys: [],
    help: false,
    version: false,
    errors: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      parsed.help = true;
      continue;
    }
    if (arg === '--version') {
      parsed.version = true;
      continue;
    }
    const equals = arg.indexOf('=');
    const name = equals > 0 && arg.startsWith('--') ? arg.slice(0, equals) : arg;
    if (!isFlag(name)) {
      parsed.errors.push(
        arg.startsWith('-') ? `unknown option ${name}` : `unexpected argument "${arg}"`,
      );
      continue;
    }
    let value: string | undefined;
    if (equals > 0 && arg.startsWith('--')) {
      value = arg.slice(equals + 1);
    } else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) {
        parsed.errors.push(`option ${name} needs a value (${FLAGS[name].value})`);
        continue;
      }
      i++;
    }
    const key = FLAGS[name].key;
    if (key === 'disks') parsed.disks.push(value);
    else if (key === 'trustedPublicKeys') parsed.trustedPublicKeys.push(value);
    else parsed.values[key] = value;
  }
  return parsed;
}

/** The text printed by `--help`. */
export function usage(): string {
  return `Usage: flotilla-agent [options]

Connects out to a Flotilla controller, reports this host's facts and activates the
NixOS systems the controller sends. Options override environment variables, which
override the JSON config file.

What the agent trusts comes from here, never from the controller: the controller's URL
(and its TLS certificate), the keys every closure must be signed with, and the health
checks run after an activation. On first start it enrolls: it makes its own Ed25519 key
(in the state directory, mode 0600; it never leaves the host) and registers the public
half with a one-time enrollment token; later connections sign a fresh challenge instead
of sending any secret.

Options:
  --config FILE                  JSON file with any of the settings below, keyed by the
                                 names in brackets          [FLOTILLA_AGENT_CONFIG]
  --controller-url URL           wss:// URL of the controller's agent gateway, e.g.
                                 wss://flotilla.example/api/v1/agent/ws (required);
                                 ws:// only to a controller on this host (loopback)
                                 [controllerUrl; FLOTILLA_CONTROLLER_URL]
  --ca-file PATH                 PEM file of the CA (or certificate) the controller's
                                 TLS certificate must chain to, instead of the system's
                                 [caFile; FLOTILLA_CA_FILE]
  --certificate-pin sha256//B64  also require this SHA-256 of the controller
                                 certificate's public key (SPKI), base64
                                 [certificatePin]
  --host NAME                    this host's name in the fleet (default: the hostname)
                                 [host; FLOTILLA_HOST]
  --enrollment-token-file PATH   file holding the one-time enrollment token from
                                 \`flotilla host add\` or \`flotilla host enroll\`; read only
                                 while the agent is not enrolled (or the token is new)
                                 [enrollmentTokenFile; FLOTILLA_AGENT_ENROLLMENT_TOKEN_FILE,
                                 or the token itself in FLOTILLA_AGENT_ENROLLMENT_TOKEN]
  --trusted-public-key NAME:KEY  a key closures must be signed with (the controller's
                                 cache key, \`flotilla cache\`); repeatable; required for
                                 managed hosts
                                 [trustedPublicKeys; FLOTILLA_TRUSTED_PUBLIC_KEYS, spaces]
  --mode managed|monitor         monitor hosts report facts but refuse deployments
                                 (default: managed)          [mode; FLOTILLA_MODE]
  --state-dir DIR                deployment journal, undelivered results, GC roots
                                 (default: /var/lib/flotilla-agent)
                                 [stateDir; FLOTILLA_AGENT_STATE_DIR]
  --profile PATH                 system profile set by deployments
                                 (default: /nix/var/nix/profiles/system) [profile]
  --current-system-link PATH     (default: /run/current-system) [currentSystemLink]
  --booted-system-link PATH      (default: /run/booted-system)  [bootedSystemLink]
  --disk PATH                    mount whose usage is reported; repeatable
                                 (default: / and /nix)       [disks]
  --log-level LEVEL              debug, info, warn or error (default: info)
                                 [logLevel; FLOTILLA_LOG_LEVEL]
  --reconnect-max-seconds N      longest wait between reconnect attempts (default: 60)
                                 [reconnectMaxSeconds]
  --activation MODE              how switch-to-configuration outlives the agent:
                                 systemd-run (a transient unit), detached (a process
                                 in its own session) or auto: systemd-run where
                                 systemd runs (default: auto)  [activation]
  --reboot-command COMMAND       run to reboot on request; split on spaces, no shell
                                 (default: "systemctl reboot" with systemd, else
                                 "reboot")                   [rebootCommand]
  --prefetch on|off              when the controller asks, prepare a waiting deployment:
                                 fetch its closure ahead (checked like any fetch) and run
                                 its switch-to-configuration dry-activate to tell what
                                 it would change; off: nothing is fetched or run before
                                 a deployment starts (default: on)  [prefetch]
  --boot-id-file PATH            where the boot id is read, to notice a reboot
                                 (default: /proc/sys/kernel/random/boot_id) [bootIdFile]
  --hostname-file PATH           where the hostname reported in facts is read
                                 (default: /proc/sys/kernel/hostname; where it is
                                 missing, the system's hostname) [hostnameFile]
  --machine-id-file PATH         where the machine id reported in facts is read
                                 (default: /etc/machine-id)  [machineIdFile]
  --home-manager-profile PATH    macOS: the home-manager profile whose generation is
                                 reported (default: ~/.local/state/nix/profiles/home-manager,
                                 then /nix/var/nix/profiles/per-user/$USER/home-manager)
                                 [homeManagerProfile]
  --darwin-commands-dir DIR      for tests and demos only: report as a Mac (monitor mode)
                                 on Linux, running sw_vers, sysctl, vm_stat and nix from
                                 DIR instead of macOS's own   [darwinCommandsDir]
  (config file only)             health checks run after each activation, e.g.
                                 [{"kind": "unit", "unit": "sshd.service"},
                                  {"kind": "http", "url": "http://127.0.0.1/health"},
                                  {"kind": "command", "argv": ["/run/check"]}]
                                 [healthChecks]
  --version                      print the version and exit
  -h, --help                     print this help and exit

Logs are JSON lines on stdout. Exit code 2 means the configuration is invalid.
`;
}
