import { realpath } from 'node:fs/promises';
import { FlotillaError, isStorePath } from '@flotilla/protocol';
import { processRunner, type RunResult } from '@flotilla/runtime';
import {
  evaluateFlakeHosts,
  type FlakeHostsEvaluation,
  type HostEvaluationOptions,
} from './nix-evaluation.js';

export { type FlakeHostsEvaluation } from './nix-evaluation.js';

/** Nix with flakes on; works with Nix 2.8 and current Nix (Lix too). */
const NIX_FLAGS = ['--extra-experimental-features', 'nix-command flakes'];

/**
 * A real NixOS host evaluates in seconds to a minute; the one call for all hosts gets
 * 30 minutes, each host on its own 10. Two host calls at once: each is one Nix process
 * that evaluates nixpkgs' module system, CPU- and memory-bound.
 */
const DEFAULT_EVALUATION: HostEvaluationOptions = {
  timeoutMs: 30 * 60_000,
  hostTimeoutMs: 10 * 60_000,
  concurrency: 2,
};

export interface RealiseOptions {
  /** Nix `builders` setting; remote builders are used when set. */
  builders?: string | null;
  /** `--max-jobs 0`: build only on the remote builders. */
  remoteOnly?: boolean;
  /** Nix `builders-use-substitutes` (default true): builders fetch inputs themselves. */
  buildersUseSubstitutes?: boolean;
  /** Indirect GC root for the output, so it survives garbage collection. */
  gcRoot?: string;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type RealiseResult =
  | { ok: true; outPath: string }
  | { ok: false; result: RunResult; reason: 'failed' | 'timeout' | 'cancelled' };

/**
 * Arguments of `nix-store --realise`: remote builders through Nix's own `builders`
 * setting (they fetch what they need from substituters themselves), `--max-jobs 0` to
 * keep the build off the controller.
 */
export function realiseArgs(drvPath: string, options: RealiseOptions): string[] {
  const args = ['--realise'];
  if (options.gcRoot) args.push('--add-root', options.gcRoot, '--indirect');
  if (options.builders) {
    args.push('--option', 'builders', options.builders);
    args.push(
      '--option',
      'builders-use-substitutes',
      String(options.buildersUseSubstitutes ?? true),
    );
  }
  if (options.remoteOnly) args.push('--max-jobs', '0');
  // The derivation comes from evaluating the repository: after `--`, never an option.
  args.push('--', drvPath);
  return args;
}

/** Refuses anything but a store path before it reaches Nix's command line. */
function requireStorePath(path: string): string {
  if (!isStorePath(path)) {
    throw new FlotillaError('invalid_store_path', `${path.slice(0, 200)} is not a Nix store path`);
  }
  return path;
}

/** What the pipeline needs of Nix: the real client, or a stand-in where Nix is out of reach. */
export type NixAdapter = Pick<NixClient, 'evaluateHosts' | 'realise' | 'closureSize'>;

/** The Nix operations the pipeline needs, behind one narrow class. */
export class NixClient {
  constructor(
    private readonly options: {
      /** The complete environment of every Nix process. */
      env: Record<string, string>;
      /** Time limits and concurrency of evaluations; defaults suit real NixOS hosts. */
      evaluation?: Partial<HostEvaluationOptions>;
    },
  ) {}

  /**
   * Evaluates every host of a flake: in one `nix eval` call, or host by host when that
   * call fails as a whole (see {@link evaluateFlakeHosts}).
   */
  evaluateHosts(flakeUrl: string): Promise<FlakeHostsEvaluation> {
    return evaluateFlakeHosts(
      (args, timeoutMs) => this.run('nix', [...NIX_FLAGS, ...args], timeoutMs),
      flakeUrl,
      { ...DEFAULT_EVALUATION, ...this.options.evaluation },
    );
  }

  /**
   * Builds a derivation with `nix-store --realise` (same CLI on every Nix version) and
   * returns its output path. Build output is streamed line by line.
   */
  async realise(drvPath: string, options: RealiseOptions = {}): Promise<RealiseResult> {
    const onLine = options.onLine;
    requireStorePath(drvPath);
    const result = await processRunner.run('nix-store', realiseArgs(drvPath, options), {
      env: this.options.env,
      captureStdout: true,
      ...(onLine ? { onLine: (_stream, line) => onLine(line) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    if (result.aborted) return { ok: false, result, reason: 'cancelled' };
    if (result.timedOut) return { ok: false, result, reason: 'timeout' };
    const printed = result.stdout.trim().split('\n').filter(Boolean).at(-1);
    if (result.exitCode !== 0 || !printed) return { ok: false, result, reason: 'failed' };
    // With --add-root, nix-store prints the root's path; the output is what it points to.
    return { ok: true, outPath: options.gcRoot ? await realpath(printed) : printed };
  }

  /** Bytes of a store path's closure (`nix path-info -S`); both JSON shapes of old and new Nix. */
  async closureSize(storePath: string): Promise<number | null> {
    const result = await this.run(
      'nix',
      [...NIX_FLAGS, 'path-info', '--json', '-S', '--', requireStorePath(storePath)],
      60_000,
    );
    if (result.exitCode !== 0) return null;
    const data = JSON.parse(result.stdout) as unknown;
    const entries: unknown[] = Array.isArray(data) ? data : Object.values(data as object);
    const first = entries[0] as { closureSize?: number } | undefined;
    return typeof first?.closureSize === 'number' ? first.closureSize : null;
  }

  /**
   * Nix's effective `sandbox` setting (`nix show-config --json`, the same on old and new
   * Nix): `true`, `false` or `relaxed`; null when Nix cannot tell.
   */
  async buildSandbox(): Promise<'true' | 'false' | 'relaxed' | null> {
    const result = await this.run('nix', [...NIX_FLAGS, 'show-config', '--json'], 30_000);
    if (result.exitCode !== 0) return null;
    try {
      const value = (JSON.parse(result.stdout) as { sandbox?: { value?: unknown } }).sandbox?.value;
      if (value === true || value === 'true') return 'true';
      if (value === false || value === 'false') return 'false';
      return value === 'relaxed' ? 'relaxed' : null;
    } catch {
      return null;
    }
  }

  private run(command: string, args: string[], timeoutMs: number): Promise<RunResult> {
    return processRunner.run(command, args, {
      env: this.options.env,
      timeoutMs,
      captureStdout: true,
    });
  }
}
