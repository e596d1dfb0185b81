import { realpath } from 'node:fs/promises';
import { FlotillaError } from '@flotilla/protocol';
import { processRunner, type RunResult } from '@flotilla/runtime';

/** Nix with flakes on; works with Nix 2.8 and current Nix (Lix too). */
const NIX_FLAGS = ['--extra-experimental-features', 'nix-command flakes'];

export interface FlakeHostsEvaluation {
  /** host → derivation path, for hosts that evaluated. */
  nixos: Record<string, string>;
  /** host → error text, for hosts whose evaluation failed on its own. */
  hostErrors: Record<string, string>;
  darwin: string[];
  home: string[];
}

export interface RealiseOptions {
  /** Nix `builders` setting; remote builders are used when set. */
  builders?: string | null;
  /** `--max-jobs 0`: build only on the remote builders. */
  remoteOnly?: boolean;
  /** Indirect GC root for the output, so it survives garbage collection. */
  gcRoot?: string;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type RealiseResult =
  | { ok: true; outPath: string }
  | { ok: false; result: RunResult; reason: 'failed' | 'timeout' | 'cancelled' };

/** Quotes a string for use inside a Nix double-quoted string. */
export function nixString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${')}"`;
}

/**
 * One Nix expression that yields every host's derivation path: one process and one
 * evaluation of the flake for all hosts. A host whose own evaluation throws is marked
 * instead of failing the whole revision.
 */
export function hostsExpression(flakeUrl: string): string {
  return `
let
  flake = builtins.getFlake ${nixString(flakeUrl)};
  hosts = flake.nixosConfigurations or { };
  drvOf = name:
    let attempt = builtins.tryEval hosts.\${name}.config.system.build.toplevel.drvPath;
    in if attempt.success then { drv = attempt.value; } else { failed = true; };
in {
  nixos = builtins.mapAttrs (name: _: drvOf name) hosts;
  darwin = builtins.attrNames (flake.darwinConfigurations or { });
  home = builtins.attrNames (flake.homeConfigurations or { });
}`;
}

/** Keeps the part of Nix's stderr that explains an error, without progress noise. */
export function nixErrorText(stderr: string, maxChars = 16_000): string {
  const lines = stderr
    .split('\n')
    .filter((line) => !/^(copying|building|these \d+|warning: Git tree)/.test(line));
  const start = lines.findIndex((line) => line.startsWith('error'));
  const text = (start >= 0 ? lines.slice(start) : lines).join('\n').trim();
  return text.length > maxChars ? `${text.slice(0, maxChars)}\n[… error text truncated]` : text;
}

/**
 * Arguments of `nix-store --realise`: remote builders through Nix's own `builders`
 * setting (they fetch what they need from substituters themselves), `--max-jobs 0` to
 * keep the build off the controller.
 */
export function realiseArgs(drvPath: string, options: RealiseOptions): string[] {
  const args = ['--realise', drvPath];
  if (options.gcRoot) args.push('--add-root', options.gcRoot, '--indirect');
  if (options.builders) {
    args.push('--option', 'builders', options.builders);
    args.push('--option', 'builders-use-substitutes', 'true');
  }
  if (options.remoteOnly) args.push('--max-jobs', '0');
  return args;
}

/** What the pipeline needs of Nix: the real client, or a stand-in where Nix is out of reach. */
export type NixAdapter = Pick<NixClient, 'evaluateHosts' | 'realise' | 'closureSize'>;

/** The Nix operations the pipeline needs, behind one narrow class. */
export class NixClient {
  constructor(
    private readonly options: {
      /** The complete environment of every Nix process. */
      env: Record<string, string>;
    },
  ) {}

  /** Evaluates every host of a flake in one `nix eval` call. */
  async evaluateHosts(flakeUrl: string, timeoutMs = 30 * 60_000): Promise<FlakeHostsEvaluation> {
    const result = await this.run(
      'nix',
      [...NIX_FLAGS, 'eval', '--json', '--expr', hostsExpression(flakeUrl)],
      timeoutMs,
    );
    if (result.exitCode !== 0) {
      throw new FlotillaError(
        'evaluation_failed',
        result.timedOut ? 'evaluation timed out' : nixErrorText(result.stderr) || 'nix eval failed',
      );
    }
    const data = JSON.parse(result.stdout) as {
      nixos: Record<string, { drv?: string; failed?: boolean }>;
      darwin: string[];
      home: string[];
    };
    const nixos: Record<string, string> = {};
    const failed: string[] = [];
    for (const [host, entry] of Object.entries(data.nixos)) {
      if (entry.drv) nixos[host] = entry.drv;
      else failed.push(host);
    }
    const hostErrors: Record<string, string> = {};
    // Rare path: ask Nix again for each failed host to get its error text.
    for (const host of failed) {
      hostErrors[host] = await this.hostError(flakeUrl, host, timeoutMs);
    }
    return { nixos, hostErrors, darwin: data.darwin, home: data.home };
  }

  private async hostError(flakeUrl: string, host: string, timeoutMs: number): Promise<string> {
    const expression = `(builtins.getFlake ${nixString(flakeUrl)}).nixosConfigurations.${nixString(host)}.config.system.build.toplevel.drvPath`;
    const result = await this.run(
      'nix',
      [...NIX_FLAGS, 'eval', '--raw', '--expr', expression],
      timeoutMs,
    );
    return nixErrorText(result.stderr) || 'evaluation failed';
  }

  /**
   * Builds a derivation with `nix-store --realise` (same CLI on every Nix version) and
   * returns its output path. Build output is streamed line by line.
   */
  async realise(drvPath: string, options: RealiseOptions = {}): Promise<RealiseResult> {
    const onLine = options.onLine;
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
      [...NIX_FLAGS, 'path-info', '--json', '-S', storePath],
      60_000,
    );
    if (result.exitCode !== 0) return null;
    const data = JSON.parse(result.stdout) as unknown;
    const entries: unknown[] = Array.isArray(data) ? data : Object.values(data as object);
    const first = entries[0] as { closureSize?: number } | undefined;
    return typeof first?.closureSize === 'number' ? first.closureSize : null;
  }

  private run(command: string, args: string[], timeoutMs: number): Promise<RunResult> {
    return processRunner.run(command, args, {
      env: this.options.env,
      timeoutMs,
      captureStdout: true,
    });
  }
}
