import {
  FlotillaError,
  type FlakeHostList,
  type Preview,
  type PreviewHost,
} from '@flotilla/protocol';
import type { BuildRepository, BuildRow } from '../storage/build.repository.js';
import { parseEvaluation, type EvaluationRepository } from '../storage/evaluation.repository.js';
import type { HostRepository } from '../storage/host.repository.js';
import type { ReleaseRepository } from '../storage/release.repository.js';
import type { PipelineService } from './pipeline.service.js';

export interface PreviewServiceOptions {
  evaluations: EvaluationRepository;
  builds: BuildRepository;
  releases: ReleaseRepository;
  hosts: HostRepository;
  pipeline: PipelineService;
}

/** Read models over the pipeline: what a pull request would change, and the flake's hosts. */
export class PreviewService {
  constructor(private readonly options: PreviewServiceOptions) {}

  /** Which hosts a preview revision rebuilds and by how much, compared with its base. */
  async get(revisionId: string): Promise<Preview> {
    const { evaluations, builds, pipeline } = this.options;
    const revision = await evaluations.revision(revisionId);
    if (!revision || revision.kind !== 'preview') {
      throw new FlotillaError('revision_not_found', `no preview revision with id "${revisionId}"`);
    }
    const evaluation = parseEvaluation(revision.evaluation_json);
    const base = await pipeline.baseEvaluation(revision);
    const ownBuilds = await builds.forRevision(revision.id);
    const names = [
      ...new Set([...Object.keys(evaluation?.nixos ?? {}), ...Object.keys(base?.nixos ?? {})]),
    ].sort();
    const hosts: PreviewHost[] = [];
    for (const host of evaluation ? names : []) {
      const drvPath = evaluation?.nixos[host] ?? null;
      const baseDrvPath = base?.nixos[host] ?? null;
      const changed = drvPath !== baseDrvPath;
      const build =
        ownBuilds.filter((b) => b.host_name === host).at(-1) ??
        (changed && drvPath ? await builds.succeededForDrv(drvPath) : undefined);
      const closureSize = build?.status === 'succeeded' ? toNumber(build.closure_size) : null;
      const baseClosureSize = await this.baseClosureSize(host, revision.base_revision_id);
      hosts.push({
        host,
        changed,
        drvPath,
        baseDrvPath,
        buildId: changed ? (build?.id ?? null) : null,
        buildStatus: changed ? (build?.status ?? null) : null,
        closureSize: changed ? closureSize : baseClosureSize,
        baseClosureSize,
        deltaBytes:
          changed && closureSize !== null && baseClosureSize !== null
            ? closureSize - baseClosureSize
            : changed
              ? null
              : 0,
        added: baseDrvPath === null && drvPath !== null,
        removed: drvPath === null && baseDrvPath !== null,
      });
    }
    return {
      revisionId: revision.id,
      ref: revision.ref,
      sha: revision.sha,
      baseRevisionId: revision.base_revision_id,
      status: previewStatus(revision.status, ownBuilds),
      errorText: revision.error_text,
      hosts,
      summary: summarize(hosts, revision.status === 'failed'),
    };
  }

  /** Hosts of the flake's latest evaluation joined with the registry. */
  async flakeHosts(repositoryId = 'default'): Promise<FlakeHostList> {
    const latest = await this.options.evaluations.latestEvaluatedBranch(repositoryId);
    const evaluation = parseEvaluation(latest?.evaluation_json ?? null);
    const registered = new Set(await this.options.hosts.allNames());
    const kinds = new Map<string, 'nixos' | 'darwin' | 'home'>();
    for (const name of Object.keys(evaluation?.nixos ?? {})) kinds.set(name, 'nixos');
    for (const name of Object.keys(evaluation?.hostErrors ?? {})) kinds.set(name, 'nixos');
    for (const name of evaluation?.darwin ?? []) kinds.set(name, 'darwin');
    // home-manager configurations are named "user@host"; the host part is what registers.
    for (const name of evaluation?.home ?? []) kinds.set(name.split('@').at(-1) ?? name, 'home');
    const names = [...new Set([...kinds.keys(), ...registered])].sort();
    return {
      revisionId: latest?.id ?? null,
      hosts: names.map((name) => ({
        name,
        kind: kinds.get(name) ?? null,
        registered: registered.has(name),
        discovered: kinds.has(name) && !registered.has(name),
        missingFromFlake: evaluation !== null && registered.has(name) && !kinds.has(name),
      })),
    };
  }

  private async baseClosureSize(
    host: string,
    baseRevisionId: string | null,
  ): Promise<number | null> {
    const { releases } = this.options;
    const atBase = baseRevisionId
      ? await releases.findForHostRevision(host, baseRevisionId)
      : undefined;
    const release = atBase ?? (await releases.latestForHost(host));
    return release ? toNumber(release.closure_size) : null;
  }
}

function toNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function previewStatus(status: string, builds: BuildRow[]): Preview['status'] {
  if (status === 'failed') return 'failed';
  if (status !== 'evaluated') return 'evaluating';
  return builds.some((b) => b.status === 'queued' || b.status === 'running') ? 'building' : 'ready';
}

/** Formats a byte delta as "+12.0 MB" / "−1.5 MB" (decimal megabytes, as people read sizes). */
export function formatDelta(bytes: number): string {
  const sign = bytes < 0 ? '−' : '+';
  const abs = Math.abs(bytes);
  if (abs < 1000) return `${sign}${abs} B`;
  if (abs < 1e6) return `${sign}${(abs / 1e3).toFixed(1)} kB`;
  if (abs < 1e9) return `${sign}${(abs / 1e6).toFixed(1)} MB`;
  return `${sign}${(abs / 1e9).toFixed(2)} GB`;
}

/** "rebuilds 5 of 6 hosts, +12.0 MB on gpc0, −1.2 MB on hsb1". */
export function summarize(hosts: readonly PreviewHost[], failed: boolean): string {
  if (failed) return 'evaluation failed';
  const changed = hosts.filter((h) => h.changed);
  if (changed.length === 0) return `changes none of ${hosts.length} hosts`;
  const sizes = changed
    .filter((h) => h.deltaBytes !== null)
    .sort((a, b) => Math.abs(b.deltaBytes ?? 0) - Math.abs(a.deltaBytes ?? 0))
    .slice(0, 5)
    .map((h) => `${formatDelta(h.deltaBytes ?? 0)} on ${h.host}`);
  return [`rebuilds ${changed.length} of ${hosts.length} hosts`, ...sizes].join(', ');
}
