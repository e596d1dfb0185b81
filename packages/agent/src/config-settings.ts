import { resolve } from 'node:path';
import { HealthCheck, HostMode, HostName } from '@flotilla/protocol';
import { LOG_LEVELS } from '@flotilla/runtime';
import * as z from 'zod';

export const ACTIVATION_SETTINGS = ['auto', 'systemd-run', 'detached'] as const;
export type ActivationSetting = (typeof ACTIVATION_SETTINGS)[number];

export const DEFAULTS = {
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
  prefetch: 'on',
} as const;

export const PREFETCH_SETTINGS = ['on', 'off'] as const;

/** A Nix `trusted-public-keys` entry for an Ed25519 key: `name:` and 32 bytes in base64. */
const TRUSTED_KEY = /^[A-Za-z0-9._+-]+:[A-Za-z0-9+/]{43}=$/;

/** A pin as curl writes it: `sha256//` and the base64 SHA-256 of the certificate's public key. */
const CERTIFICATE_PIN = /^sha256\/\/[A-Za-z0-9+/]{43}=$/;

/** Whether a URL's host is this machine: agents may skip TLS only there. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

const path = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((value) => resolve(value ?? fallback));

const optionalPath = z
  .string()
  .optional()
  .transform((value) => (value === undefined ? null : resolve(value)));

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

const ControllerUrl = z
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
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      ctx.addIssue({
        code: 'custom',
        message: `controller URL "${url}" must start with wss:// (or ws:// to this host)`,
      });
    } else if (parsed.protocol === 'ws:' && !isLoopbackHost(parsed.hostname)) {
      ctx.addIssue({
        code: 'custom',
        message:
          `controller URL "${url}" must use wss:// (TLS): ws:// is allowed only to a ` +
          'controller on this host (localhost, 127.0.0.0/8, ::1)',
      });
    }
    if (parsed.username !== '' || parsed.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'controller URL must not contain credentials' });
    }
  });

/**
 * The agent's settings as one schema: every setting (as text or lists, after precedence was
 * applied) checked and turned into its typed value, each problem with a message that names
 * the setting and how to set it. Relative paths are resolved once, at start.
 */
export const Settings = z
  .object({
    controllerUrl: ControllerUrl,
    caFile: optionalPath,
    certificatePin: z
      .string()
      .optional()
      .transform((pin, ctx) => {
        if (pin === undefined) return null;
        if (CERTIFICATE_PIN.test(pin)) return pin;
        ctx.addIssue({
          code: 'custom',
          message: `certificate pin "${pin}" must be sha256// and the base64 SHA-256 of the certificate's public key`,
        });
        return z.NEVER;
      }),
    host: z.string().superRefine((host, ctx) => {
      if (!HostName.safeParse(host).success)
        ctx.addIssue({
          code: 'custom',
          message: `host "${host}" must be a lowercase DNS label (a-z, 0-9, -); set --host`,
        });
    }),
    mode: oneOf(
      HostMode.options,
      DEFAULTS.mode,
      (v) => `mode "${v}" must be "managed" or "monitor"`,
    ),
    enrollmentTokenFile: optionalPath,
    trustedPublicKeys: z
      .array(z.string())
      .default([])
      .superRefine((keys, ctx) => {
        for (const key of keys) {
          if (!TRUSTED_KEY.test(key))
            ctx.addIssue({
              code: 'custom',
              message: `trusted public key "${key}" must be NAME:KEY, as \`flotilla cache\` shows it`,
            });
        }
      }),
    healthChecks: z.array(HealthCheck).max(32).default([]),
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
    // Off: the agent answers the controller's requests to prepare a waiting deployment
    // with "prefetch disabled" and fetches and runs nothing before a deployment starts.
    prefetch: oneOf(
      PREFETCH_SETTINGS,
      DEFAULTS.prefetch,
      (v) => `prefetch "${v}" must be "on" or "off"`,
    ).transform((value) => value === 'on'),
    bootIdFile: path(DEFAULTS.bootIdFile),
    hostnameFile: path(DEFAULTS.hostnameFile),
    machineIdFile: path(DEFAULTS.machineIdFile),
    homeManagerProfile: optionalPath,
    darwinCommandsDir: optionalPath,
  })
  .superRefine((settings, ctx) => {
    // A managed host activates what it fetches: it must know whose signatures to accept.
    if (settings.mode === 'managed' && settings.trustedPublicKeys.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message:
          'a managed host needs the key closures are signed with: set --trusted-public-key ' +
          '(or trustedPublicKeys, FLOTILLA_TRUSTED_PUBLIC_KEYS) to the key `flotilla cache` shows',
      });
    }
  });
export type Settings = z.output<typeof Settings>;
