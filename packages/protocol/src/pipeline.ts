import * as z from 'zod';
import { HostName } from './messages.js';

/** Bodies of the build pipeline's API: evaluations, builds, releases, previews. */

/** Where Nix says an evaluation error is. */
export const NixErrorLocation = z.object({
  /**
   * Path inside the flake's source tree (the repository), e.g. `hosts/gpc0.nix`; an
   * absolute path when the error is outside it (in an input such as nixpkgs).
   */
  file: z.string(),
  /** 1-based; null when Nix named only the file. */
  line: z.number().int().nullable(),
  column: z.number().int().nullable(),
});
export type NixErrorLocation = z.infer<typeof NixErrorLocation>;

/** `file:line:column` as people and editors read it, or as much of it as Nix named. */
export function formatNixErrorLocation(location: NixErrorLocation): string {
  if (location.line === null) return location.file;
  return `${location.file}:${location.line}${location.column === null ? '' : `:${location.column}`}`;
}

/** One host's evaluation error, read out of Nix's error text. */
export const HostEvaluationError = z.object({
  /** The line that says what is wrong, e.g. "syntax error, unexpected end of file". */
  message: z.string(),
  location: NixErrorLocation.nullable(),
});
export type HostEvaluationError = z.infer<typeof HostEvaluationError>;

/** A host whose new derivation is not built automatically, and why. */
export const NotRebuiltHost = z.object({
  drvPath: z.string(),
  /** The newest release build of this derivation; it failed. Retrying it builds again. */
  failedBuildId: z.string(),
});
export type NotRebuiltHost = z.infer<typeof NotRebuiltHost>;

/** Which flake output declares a host: a NixOS system, a nix-darwin system or a home-manager home. */
export const HostOutputKind = z.enum(['nixos', 'darwin', 'home-manager']);
export type HostOutputKind = z.infer<typeof HostOutputKind>;

/**
 * The output path every declared output evaluates to (never built): `nixosConfigurations.X`'s
 * toplevel, `darwinConfigurations.X.system`, `homeConfigurations."u@h".activationPackage`,
 * by attribute name. An output that does not evaluate is left out.
 */
export const EvaluatedOutputs = z.object({
  nixos: z.record(z.string(), z.string()),
  darwin: z.record(z.string(), z.string()),
  home: z.record(z.string(), z.string()),
});
export type EvaluatedOutputs = z.infer<typeof EvaluatedOutputs>;

/**
 * Result of evaluating one revision: every host's derivation, in one Nix call, or host by
 * host when that call failed. Fields added after the first version are optional, so
 * evaluations stored before them still parse.
 */
export const Evaluation = z.object({
  /** nixosConfigurations: host → derivation path (managed candidates). */
  nixos: z.record(z.string(), z.string()),
  /** nixosConfigurations whose evaluation failed: host → Nix error text. */
  hostErrors: z.record(z.string(), z.string()),
  /** The same hosts: the error's message and where it is (file, line, column). */
  hostErrorDetails: z.record(z.string(), HostEvaluationError).optional(),
  /**
   * True when the one-call evaluation failed (an error `builtins.tryEval` cannot catch,
   * such as a syntax error in one host's file) and each host was evaluated on its own.
   */
  evaluatedPerHost: z.boolean().optional(),
  /** Hosts whose derivation's newest release build failed: not built again until retried. */
  notRebuilt: z.record(z.string(), NotRebuiltHost).optional(),
  /** darwinConfigurations names (monitor-only hosts). */
  darwin: z.array(z.string()),
  /** homeConfigurations names, e.g. "user@host" (monitor-only hosts). */
  home: z.array(z.string()),
  /** Output paths of every declared output, for drift; absent in evaluations stored before them. */
  outputs: EvaluatedOutputs.optional(),
});
export type Evaluation = z.infer<typeof Evaluation>;

export const BuildStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type BuildStatus = z.infer<typeof BuildStatus>;

export const BuildKind = z.enum(['release', 'preview']);
export type BuildKind = z.infer<typeof BuildKind>;

export const Build = z.object({
  id: z.string(),
  revisionId: z.string(),
  host: z.string(),
  drvPath: z.string(),
  kind: BuildKind,
  status: BuildStatus,
  attempt: z.number(),
  /** Nix `builders` the build ran with; null for local builds. */
  builders: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  outPath: z.string().nullable(),
  closureSize: z.number().nullable(),
  /** The Nix error of a failed build, so it reads first, above the full log. */
  errorSummary: z.string().nullable(),
  logBytes: z.number(),
  logTruncated: z.boolean(),
});
export type Build = z.infer<typeof Build>;

export const BuildList = z.object({ builds: z.array(Build) });
export type BuildList = z.infer<typeof BuildList>;

export const BuildListQuery = z.object({
  status: BuildStatus.optional(),
  host: HostName.optional(),
  revision: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type BuildListQuery = z.infer<typeof BuildListQuery>;

export const BuildLogLine = z.object({ seq: z.number(), at: z.string(), line: z.string() });
export type BuildLogLine = z.infer<typeof BuildLogLine>;

export const BuildLogPage = z.object({
  lines: z.array(BuildLogLine),
  /** Sequence number of the last line returned; pass as `after` to continue. */
  last: z.number(),
  status: BuildStatus,
  errorSummary: z.string().nullable(),
  truncated: z.boolean(),
});
export type BuildLogPage = z.infer<typeof BuildLogPage>;

/** `publishing` while its closure is signed and copied into the cache; deployable once `ready`. */
/** `quarantined`: it rolled back by itself on its host; `auto` never deploys it again. */
export const ReleaseStatus = z.enum([
  'publishing',
  'ready',
  'superseded',
  'deployed',
  'quarantined',
]);
export type ReleaseStatus = z.infer<typeof ReleaseStatus>;

export const Release = z.object({
  id: z.string(),
  host: z.string(),
  revisionId: z.string(),
  sha: z.string(),
  commitMessage: z.string(),
  commitAuthor: z.string(),
  committedAt: z.string(),
  buildId: z.string(),
  drvPath: z.string(),
  storePath: z.string(),
  closureSize: z.number().nullable(),
  /** The host's release this one replaces (the newest before it). */
  previousReleaseId: z.string().nullable(),
  status: ReleaseStatus,
  createdAt: z.string(),
});
export type Release = z.infer<typeof Release>;

export const ReleaseList = z.object({ releases: z.array(Release) });
export type ReleaseList = z.infer<typeof ReleaseList>;

export const ReleaseListQuery = z.object({
  host: HostName.optional(),
  status: ReleaseStatus.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type ReleaseListQuery = z.infer<typeof ReleaseListQuery>;

/** How a pull-request head would change one host compared with the tracked branch. */
export const PreviewHost = z.object({
  host: z.string(),
  changed: z.boolean(),
  drvPath: z.string().nullable(),
  baseDrvPath: z.string().nullable(),
  buildId: z.string().nullable(),
  buildStatus: BuildStatus.nullable(),
  closureSize: z.number().nullable(),
  baseClosureSize: z.number().nullable(),
  /** closureSize − baseClosureSize, once both are known. */
  deltaBytes: z.number().nullable(),
  /** Only in one of the two revisions. */
  added: z.boolean(),
  removed: z.boolean(),
});
export type PreviewHost = z.infer<typeof PreviewHost>;

export const Preview = z.object({
  revisionId: z.string(),
  ref: z.string(),
  sha: z.string(),
  baseRevisionId: z.string().nullable(),
  status: z.enum(['evaluating', 'building', 'ready', 'failed']),
  errorText: z.string().nullable(),
  hosts: z.array(PreviewHost),
  /** One line for people, e.g. "rebuilds 5 of 6 hosts, +12.0 MB on gpc0". */
  summary: z.string(),
});
export type Preview = z.infer<typeof Preview>;

/** A host named in the flake, the registry, or both. */
export const FlakeHost = z.object({
  name: z.string(),
  /** Where the flake declares it; null when only the registry knows it. */
  kind: z.enum(['nixos', 'darwin', 'home']).nullable(),
  registered: z.boolean(),
  /** Declared in the flake but no agent registered yet. */
  discovered: z.boolean(),
  /** Registered but absent from the flake's latest evaluation. */
  missingFromFlake: z.boolean(),
});
export type FlakeHost = z.infer<typeof FlakeHost>;

export const FlakeHostList = z.object({
  revisionId: z.string().nullable(),
  hosts: z.array(FlakeHost),
});
export type FlakeHostList = z.infer<typeof FlakeHostList>;
