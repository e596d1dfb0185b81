import type { Evaluation, Host, HostOutputKind } from '@flotilla/protocol';
import type { HostSettings } from '../config.js';

/** The flake output that declares a host: its kind and attribute name. */
export interface DeclaredOutput {
  kind: HostOutputKind;
  attribute: string;
}

/** The config's `hosts.NAME.output`, or `nixosConfigurations.NAME` when it says nothing. */
export function declaredOutput(host: string, settings: HostSettings | undefined): DeclaredOutput {
  const output = settings?.output;
  return { kind: output?.kind ?? 'nixos', attribute: output?.attribute ?? host };
}

/** What the output evaluated to in one evaluation; null when it did not (or was not asked). */
export function evaluatedPath(
  evaluation: Evaluation | null,
  output: DeclaredOutput,
): string | null {
  const outputs = evaluation?.outputs;
  if (!outputs) return null;
  const byKind = {
    nixos: outputs.nixos,
    darwin: outputs.darwin,
    'home-manager': outputs.home,
  }[output.kind];
  return byKind[output.attribute] ?? null;
}

/**
 * What the host reports it runs of that output: the current system for NixOS and
 * nix-darwin (`/run/current-system`), the current home-manager generation's package for a
 * home-manager home. `system` is the current system as the status service reads it.
 */
export function runningOutput(
  host: Host,
  output: DeclaredOutput,
  system: string | null,
): string | null {
  if (output.kind === 'home-manager') return host.facts?.darwin?.homeManager?.path ?? null;
  return system;
}

/** An evaluated revision of the branch, newest first, as drift looks through them. */
export interface EvaluatedRevision {
  id: string;
  sha: string;
  evaluation: Evaluation | null;
}

/** The newest revision whose evaluation of the output is `path`, if any. */
export function revisionDeclaring(
  history: readonly EvaluatedRevision[],
  output: DeclaredOutput,
  path: string,
): EvaluatedRevision | undefined {
  return history.find((revision) => evaluatedPath(revision.evaluation, output) === path);
}
