import {
  FlotillaError,
  isStorePath,
  type EvaluatedOutputs,
  type HostEvaluationError,
} from '@flotilla/protocol';
import type { RunResult } from '@flotilla/runtime';
import { nixErrorText, parseNixError } from './nix-error.js';

/** What evaluating a flake's hosts found. */
export interface FlakeHostsEvaluation {
  /** host → derivation path, for hosts that evaluated. */
  nixos: Record<string, string>;
  /** host → error text, for hosts whose evaluation failed on its own. */
  hostErrors: Record<string, string>;
  /** The same hosts: message and location (file relative to the flake, line, column). */
  hostErrorDetails: Record<string, HostEvaluationError>;
  /** The one call failed as a whole; each host was evaluated in its own call. */
  evaluatedPerHost: boolean;
  darwin: string[];
  home: string[];
  /** Every declared output's path (evaluated, never built); absent when even that failed. */
  outputs?: EvaluatedOutputs;
}

/** Runs `nix <args>` (flakes enabled, the controller's environment) with a time limit. */
export type NixCommand = (args: string[], timeoutMs: number) => Promise<RunResult>;

export interface HostEvaluationOptions {
  /** Time limit of the one call that evaluates every host, and of the call listing them. */
  timeoutMs: number;
  /** Time limit of each host's own call, when hosts are evaluated one by one. */
  hostTimeoutMs: number;
  /** How many host calls run at once. */
  concurrency: number;
}

/** Quotes a string for use inside a Nix double-quoted string. */
export function nixString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${')}"`;
}

/**
 * One Nix expression that yields every host's derivation path: one process and one
 * evaluation of the flake for all hosts. A host whose own evaluation throws is marked
 * instead of failing the whole call; errors `tryEval` cannot catch (syntax, type, missing
 * attribute) still abort it, and {@link evaluateFlakeHosts} then goes host by host.
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
  source = flake.sourceInfo.outPath or null;
  nixos = builtins.mapAttrs (name: _: drvOf name) hosts;
  darwin = builtins.attrNames (flake.darwinConfigurations or { });
  home = builtins.attrNames (flake.homeConfigurations or { });
  outputs = ${OUTPUTS}
}`;
}

/**
 * Every declared output's path, as a Nix expression over `flake`: NixOS toplevels,
 * nix-darwin systems and home-manager activation packages. Only evaluated, never built (a
 * Mac's system cannot be built here); an output that throws is null instead of failing
 * the rest.
 */
const OUTPUTS = `let
    outOf = value: let attempt = builtins.tryEval value;
      in if attempt.success && builtins.isString attempt.value then attempt.value else null;
  in {
    nixos = builtins.mapAttrs (name: host: outOf (host.config.system.build.toplevel.outPath or null))
      (flake.nixosConfigurations or { });
    darwin = builtins.mapAttrs (name: system: outOf (system.system.outPath or null))
      (flake.darwinConfigurations or { });
    home = builtins.mapAttrs (name: home: outOf (home.activationPackage.outPath or null))
      (flake.homeConfigurations or { });
  };`;

/** The outputs alone, for when the one call for every host failed as a whole. */
export function outputsExpression(flakeUrl: string): string {
  return `let flake = builtins.getFlake ${nixString(flakeUrl)};
in ${OUTPUTS.replace(/;$/, '')}`;
}

/**
 * The host names only: cheap (no host's configuration is evaluated), so it fails only
 * when the flake itself (flake.nix, its inputs, the attribute sets of hosts) is broken.
 */
export function namesExpression(flakeUrl: string): string {
  return `
let flake = builtins.getFlake ${nixString(flakeUrl)};
in {
  source = flake.sourceInfo.outPath or null;
  nixos = builtins.attrNames (flake.nixosConfigurations or { });
  darwin = builtins.attrNames (flake.darwinConfigurations or { });
  home = builtins.attrNames (flake.homeConfigurations or { });
}`;
}

/** One host's derivation path, evaluated on its own. */
export function hostExpression(flakeUrl: string, host: string): string {
  return `(builtins.getFlake ${nixString(flakeUrl)}).nixosConfigurations.${nixString(host)}.config.system.build.toplevel.drvPath`;
}

type RawOutputs = Record<keyof EvaluatedOutputs, Record<string, string | null>>;

interface CombinedResult {
  source: string | null;
  nixos: Record<string, { drv?: string; failed?: boolean }>;
  darwin: string[];
  home: string[];
  outputs?: RawOutputs;
}

interface NamesResult {
  source: string | null;
  nixos: string[];
  darwin: string[];
  home: string[];
}

/** A host's derivation, or its error: the text as stored, and all of it for the parser. */
type HostOutcome = { host: string; drv: string } | { host: string; text: string; full: string };

/**
 * Evaluates every NixOS host of a flake to its derivation path. First in one `nix eval`
 * for all hosts; when that call fails as a whole, the host names are listed in a cheap
 * call (if even that fails, the flake itself is broken: `evaluation_failed` with its
 * error) and each host is evaluated in its own call, `concurrency` at a time, each
 * within `hostTimeoutMs`. Either way, every host that evaluates has its derivation and
 * every host that does not has its error text and location.
 */
export async function evaluateFlakeHosts(
  nix: NixCommand,
  flakeUrl: string,
  options: HostEvaluationOptions,
): Promise<FlakeHostsEvaluation> {
  const combined = await nix(
    ['eval', '--json', '--expr', hostsExpression(flakeUrl)],
    options.timeoutMs,
  );
  if (combined.exitCode === 0) {
    const data = JSON.parse(combined.stdout) as CombinedResult;
    const failed = Object.keys(data.nixos).filter((host) => !data.nixos[host]?.drv);
    // Hosts that threw: ask Nix again, one call each, for their error text.
    const outcomes = await mapBounded(failed, options.concurrency, (host) =>
      evaluateHost(nix, flakeUrl, host, options.hostTimeoutMs),
    );
    const drvs = Object.entries(data.nixos).flatMap(([host, entry]): HostOutcome[] =>
      entry.drv ? [isDrvPath(entry.drv) ? { host, drv: entry.drv } : notADerivation(host)] : [],
    );
    return { ...assemble([...drvs, ...outcomes], data, false), ...outputsOf(data.outputs) };
  }
  if (combined.timedOut) {
    throw new FlotillaError(
      'evaluation_failed',
      `evaluation timed out after ${Math.round(options.timeoutMs / 1000)} s`,
    );
  }
  const names = await nix(
    ['eval', '--json', '--expr', namesExpression(flakeUrl)],
    options.timeoutMs,
  );
  if (names.exitCode !== 0) {
    const text = names.timedOut
      ? `listing the flake's hosts timed out after ${Math.round(options.timeoutMs / 1000)} s`
      : nixErrorText(names.stderr) || nixErrorText(combined.stderr) || 'nix eval failed';
    throw new FlotillaError('evaluation_failed', text);
  }
  const listing = JSON.parse(names.stdout) as NamesResult;
  const outcomes = await mapBounded(listing.nixos, options.concurrency, (host) =>
    evaluateHost(nix, flakeUrl, host, options.hostTimeoutMs),
  );
  // The outputs in a call of their own: a host that broke the combined call may break
  // this one too, and then drift is unknown for this revision.
  const outputs = await nix(
    ['eval', '--json', '--expr', outputsExpression(flakeUrl)],
    options.timeoutMs,
  );
  const raw = outputs.exitCode === 0 ? (JSON.parse(outputs.stdout) as RawOutputs) : undefined;
  return { ...assemble(outcomes, listing, true), ...outputsOf(raw) };
}

/** Store paths only: what a flake evaluates to is the repository's to decide. */
function outputsOf(raw: RawOutputs | undefined): { outputs?: EvaluatedOutputs } {
  if (raw === undefined) return {};
  const keep = (entries: Record<string, string | null> | undefined) =>
    Object.fromEntries(
      Object.entries(entries ?? {}).filter(
        (entry): entry is [string, string] => entry[1] !== null && isStorePath(entry[1]),
      ),
    );
  return { outputs: { nixos: keep(raw.nixos), darwin: keep(raw.darwin), home: keep(raw.home) } };
}

async function evaluateHost(
  nix: NixCommand,
  flakeUrl: string,
  host: string,
  timeoutMs: number,
): Promise<HostOutcome> {
  const result = await nix(['eval', '--raw', '--expr', hostExpression(flakeUrl, host)], timeoutMs);
  const drv = result.stdout.trim();
  if (result.exitCode === 0 && isDrvPath(drv)) return { host, drv };
  if (result.exitCode === 0) return notADerivation(host);
  if (result.timedOut) {
    const text = `error: evaluating ${host} timed out after ${Math.round(timeoutMs / 1000)} s and was stopped`;
    return { host, text, full: text };
  }
  // Newer Nix prints the trace first and the innermost error last: the stored text may be
  // cut short, so the message and location are read from all of it.
  const full = nixErrorText(result.stderr, Infinity) || `error: evaluating ${host} failed`;
  return { host, text: nixErrorText(result.stderr) || full, full };
}

/**
 * A derivation path as Nix makes them. What the flake evaluates to is the repository's
 * to decide (a `toplevel` can be any attribute set), so it is checked before it becomes a
 * build's argument.
 */
function isDrvPath(value: string): boolean {
  return value.endsWith('.drv') && isStorePath(value);
}

function notADerivation(host: string): HostOutcome {
  const text = `error: ${host}'s system.build.toplevel.drvPath is not a derivation in the Nix store`;
  return { host, text, full: text };
}

function assemble(
  outcomes: readonly HostOutcome[],
  listing: { source: string | null; darwin: string[]; home: string[] },
  evaluatedPerHost: boolean,
): FlakeHostsEvaluation {
  const evaluation: FlakeHostsEvaluation = {
    nixos: {},
    hostErrors: {},
    hostErrorDetails: {},
    evaluatedPerHost,
    darwin: listing.darwin,
    home: listing.home,
  };
  for (const outcome of [...outcomes].sort((a, b) => a.host.localeCompare(b.host))) {
    if ('drv' in outcome) {
      evaluation.nixos[outcome.host] = outcome.drv;
    } else {
      evaluation.hostErrors[outcome.host] = outcome.text;
      evaluation.hostErrorDetails[outcome.host] = parseNixError(outcome.full, listing.source);
    }
  }
  return evaluation;
}

/** Runs `work` over `items` with at most `limit` at once; results in the items' order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
