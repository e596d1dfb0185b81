import { describeExit, type ProcessRunner, type RunResult } from '@flotilla/runtime';
import { switchToConfiguration } from '../deploy/activator.js';
import { pathInfoEntries } from '../deploy/closure-signature.js';

/** Success with a value, or a reason that is safe to show. */
export type ToolOutcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/** What `switch-to-configuration dry-activate` printed, in order, and how it ended. */
export interface DryActivation {
  exitCode: number | null;
  lines: string[];
}

/** The programs a plan runs; an interface so the preparer can be tested alone. */
export interface PlanTools {
  /** `nix store diff-closures current next`: its output. */
  diffClosures(current: string, next: string): Promise<ToolOutcome<string>>;
  /** Closure sizes in bytes (`nix path-info -S`), by path; paths Nix did not report are missing. */
  closureSizes(paths: readonly string[]): Promise<Map<string, number>>;
  /** `<system>/bin/switch-to-configuration dry-activate`; fails when it could not finish. */
  dryActivate(system: string): Promise<ToolOutcome<DryActivation>>;
}

export interface NixPlanToolsOptions {
  runner: ProcessRunner;
  /** The agent's environment for Nix (without secrets). */
  env: Record<string, string>;
  /** Handed to the dry activation as the sandboxed test systems expect (NixOS ignores them). */
  currentSystemLink: string;
  profile: string;
  /** Longest a Nix query may take (ms). */
  nixTimeoutMs?: number;
  /** Longest the dry activation may take (ms). */
  dryActivateTimeoutMs?: number;
}

/** At most this many lines of dry-activate output are kept. */
const MAX_LINES = 2000;

/** {@link PlanTools} on the real `nix` and the new system's own switch-to-configuration. */
export class NixPlanTools implements PlanTools {
  constructor(private readonly options: NixPlanToolsOptions) {}

  async diffClosures(current: string, next: string): Promise<ToolOutcome<string>> {
    const result = await this.nix(['store', 'diff-closures', current, next]);
    if (result.exitCode === 0 && !result.stdoutTruncated) return { ok: true, value: result.stdout };
    return { ok: false, reason: failure('nix store diff-closures', result) };
  }

  async closureSizes(paths: readonly string[]): Promise<Map<string, number>> {
    const result = await this.nix(['path-info', '--json', '--closure-size', ...paths]);
    const sizes = new Map<string, number>();
    if (result.exitCode !== 0) return sizes;
    for (const path of paths) {
      const size = pathInfoEntries(result.stdout).get(path)?.closureSize;
      if (typeof size === 'number') sizes.set(path, size);
    }
    return sizes;
  }

  /**
   * Runs the dry activation directly (it changes nothing, so it needs no unit that outlives
   * the agent), bounded in time, with a minimal environment: the search path, the locale
   * archive NixOS passes on, and the two variables the sandbox's test systems read.
   */
  async dryActivate(system: string): Promise<ToolOutcome<DryActivation>> {
    const { runner, env, currentSystemLink, profile } = this.options;
    const lines: string[] = [];
    const result = await runner.run(switchToConfiguration(system), ['dry-activate'], {
      env: {
        PATH: env.PATH ?? '/run/current-system/sw/bin:/usr/bin:/bin',
        LOCALE_ARCHIVE: env.LOCALE_ARCHIVE,
        NIXOS_INSTALL_BOOTLOADER: '0',
        FLOTILLA_CURRENT_SYSTEM_LINK: currentSystemLink,
        FLOTILLA_PROFILE: profile,
      },
      timeoutMs: this.options.dryActivateTimeoutMs ?? 120_000,
      onLine: (_stream, line) => {
        if (lines.length < MAX_LINES) lines.push(line);
      },
    });
    if (result.exitCode === 0) return { ok: true, value: { exitCode: 0, lines } };
    return { ok: false, reason: failure('switch-to-configuration dry-activate', result) };
  }

  private nix(args: readonly string[]): Promise<RunResult> {
    return this.options.runner.run(
      'nix',
      ['--extra-experimental-features', 'nix-command', ...args],
      {
        env: this.options.env,
        captureStdout: true,
        timeoutMs: this.options.nixTimeoutMs ?? 120_000,
      },
    );
  }
}

function failure(what: string, result: RunResult): string {
  const lastError = result.stderrTail.filter((line) => line.trim() !== '').at(-1);
  return `${what} ${describeExit(result)}${lastError === undefined ? '' : `: ${lastError.trim()}`}`;
}
