import { createHash } from 'node:crypto';
import type { DeployAction } from '@flotilla/protocol';

export interface SystemdRunCommand {
  unit: string;
  /** The `switch-to-configuration` to run. */
  program: string;
  action: DeployAction;
  currentSystemLink: string;
  profile: string;
}

/**
 * The command nixos-rebuild uses to activate in a transient unit, so the activation is not
 * killed when the caller's unit restarts. `-E NAME` without a value copies the variable
 * from systemd-run's own environment; the unit gets no other variables, so the two the
 * sandbox reads are passed with values.
 */
export function systemdRunCommand(command: SystemdRunCommand): string[] {
  return [
    'systemd-run',
    '-E',
    'LOCALE_ARCHIVE',
    '-E',
    'NIXOS_INSTALL_BOOTLOADER=0',
    '-E',
    `FLOTILLA_CURRENT_SYSTEM_LINK=${command.currentSystemLink}`,
    '-E',
    `FLOTILLA_PROFILE=${command.profile}`,
    '--collect',
    '--no-ask-password',
    '--pipe',
    '--quiet',
    '--service-type=exec',
    `--unit=${command.unit}`,
    '--wait',
    command.program,
    command.action,
  ];
}

/** Characters systemd accepts in a unit name (besides the "\" of its escapes). */
const UNIT_SAFE = /^[A-Za-z0-9:_.-]+$/;

/**
 * `flotilla-activate-<deployment id>[-<step>]` for the first activation, with any
 * character systemd would reject replaced and a short hash added so distinct ids stay
 * distinct.
 */
export function unitName(deploymentId: string, name: string): string {
  const suffix = name === 'activate' ? '' : `-${name}`;
  let id = deploymentId;
  if (!UNIT_SAFE.test(id)) {
    const hash = createHash('sha256').update(deploymentId).digest('hex').slice(0, 8);
    id = `${id.replace(/[^A-Za-z0-9:_.-]/g, '_')}-${hash}`;
  }
  return `flotilla-activate-${id}${suffix}`;
}
