import type { DeployAction } from '@flotilla/protocol';
import type { OutputStream, ProcessRunner, RunResult } from '../process-runner.js';

export interface ActivationRequest {
  storePath: string;
  action: DeployAction;
  onLine: (stream: OutputStream, line: string) => void;
}

/** How `switch-to-configuration` ended. */
export type ActivationOutcome = Pick<RunResult, 'exitCode' | 'signal' | 'spawnError'>;

/**
 * Runs a system's `switch-to-configuration`. An interface because the way it runs will
 * change (a transient systemd unit, or a detached process, so restarting the agent's own
 * unit cannot kill an activation half-way) while the executor stays the same.
 */
export interface Activator {
  activate(request: ActivationRequest): Promise<ActivationOutcome>;
}

export interface ChildProcessActivatorOptions {
  runner: ProcessRunner;
  /** The agent's environment, without secrets; it carries LOCALE_ARCHIVE through. */
  env: Record<string, string>;
  currentSystemLink: string;
  profile: string;
}

/** Runs the activation as an ordinary child of the agent. */
export class ChildProcessActivator implements Activator {
  constructor(private readonly options: ChildProcessActivatorOptions) {}

  activate(request: ActivationRequest): Promise<ActivationOutcome> {
    const { env, currentSystemLink, profile } = this.options;
    return this.options.runner.run(
      `${request.storePath}/bin/switch-to-configuration`,
      [request.action],
      {
        env: {
          ...env,
          // What nixos-rebuild passes; the bootloader is only installed on request.
          NIXOS_INSTALL_BOOTLOADER: '0',
          // Real NixOS ignores these; sandboxed test systems use them to find their host.
          FLOTILLA_CURRENT_SYSTEM_LINK: currentSystemLink,
          FLOTILLA_PROFILE: profile,
        },
        onLine: request.onLine,
      },
    );
  }
}
