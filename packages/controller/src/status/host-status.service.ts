import {
  IN_FLIGHT_DEPLOYMENT_STATUSES,
  OPEN_DEPLOYMENT_STATUSES,
  type Evaluation,
  type Host,
  type HostStatusReport,
  type HostSync,
} from '@flotilla/protocol';
import type { HostSettings } from '../config.js';
import type { HostService } from '../hosts/host.service.js';
import type { DeploymentRow } from '../storage/deployment.repository.js';
import { parseEvaluation, type RevisionRow } from '../storage/evaluation.repository.js';
import type { ReleaseView } from '../storage/release.repository.js';
import type { Store } from '../storage/store.js';
import {
  declaredOutput,
  evaluatedPath,
  revisionDeclaring,
  runningOutput,
  type EvaluatedRevision,
} from './host-drift.js';
import { describeStory, type StoryFacts } from './host-story.js';

/** How many evaluated revisions back drift looks for the output a host runs. */
const DRIFT_HISTORY = 200;

/** How many commits lie between two; null when git cannot tell. */
export interface CommitCounter {
  commitsBetween(from: string, to: string): Promise<number | null>;
}

export interface HostStatusServiceOptions {
  store: Store;
  hosts: Pick<HostService, 'get' | 'toHost'>;
  commits: CommitCounter;
  repositoryId: string;
  /** Per-host settings of the config file: which flake output declares each host. */
  hostSettings?: Readonly<Record<string, HostSettings>>;
}

/** The branch head as the status read models see it: the newest revision and its evaluation. */
interface Head {
  /** The newest branch revision, whatever became of its evaluation. */
  latest: RevisionRow | undefined;
  /** The newest branch revision that evaluated, and its evaluation. */
  evaluated: RevisionRow | undefined;
  evaluation: Evaluation | null;
  /** The evaluated revisions before it, newest first; read once, when a host needs them. */
  history: () => Promise<EvaluatedRevision[]>;
}

/**
 * Where hosts stand, from the branch to the running system: the one story of
 * `flotilla status HOST` and the running revision of `flotilla hosts` ("up to date",
 * "behind by 3", "drifted"). Reads only.
 */
export class HostStatusService {
  constructor(private readonly options: HostStatusServiceOptions) {}

  async report(name: string): Promise<HostStatusReport> {
    const { store } = this.options;
    const host = await this.options.hosts.get(name);
    const head = await this.head();
    const policy = await store.policies.find(name);
    const open = await store.deployments.forHost(name, OPEN_DEPLOYMENT_STATUSES);
    const pending = open.find((d) => IN_FLIGHT_DEPLOYMENT_STATUSES.includes(d.status)) ?? open[0];
    const lastDeployment = await store.deployments.latestForHost(name, [
      'succeeded',
      'failed',
      'rolled_back',
    ]);
    const built = await store.releases.latestForHost(name);
    const running = runningSystem(host, lastDeployment);
    const runningRelease = running
      ? (await store.releases.forStorePaths(name, [running]))[0]
      : undefined;
    const succeeded = await store.deployments.succeededForHost(name, 50);
    const verifiedBy = succeeded.find((d) => d.store_path === running);
    const sync = await this.syncOf(
      host,
      running,
      head,
      runningRelease,
      verifiedBy,
      succeeded.length > 0,
    );
    const declaredDrv = head.evaluation?.nixos[name];
    const hostError = head.evaluation?.hostErrors[name];
    const hostErrorDetail = head.evaluation?.hostErrorDetails?.[name];
    const declaredError =
      head.latest?.status === 'failed'
        ? {
            revisionId: head.latest.id,
            sha: head.latest.sha,
            message: head.latest.error_text ?? 'evaluation failed',
            location: null,
          }
        : hostError !== undefined && head.evaluated
          ? {
              revisionId: head.evaluated.id,
              sha: head.evaluated.sha,
              message: hostErrorDetail?.message ?? hostError,
              location: hostErrorDetail?.location ?? null,
            }
          : null;
    const facts: StoryFacts = {
      host: name,
      // A Mac is told as monitor-only whatever the registry says: it is never deployed to.
      mode: host.os === 'darwin' ? 'monitor' : host.mode,
      online: host.status === 'online',
      running,
      runningRelease: runningRelease ? releaseRef(runningRelease) : null,
      verifiedBy: verifiedBy ? { id: verifiedBy.id, at: verifiedBy.finished_at } : null,
      pending: pending ? pendingRef(pending) : null,
      pendingRelease: pending?.release_id
        ? releaseRef(await store.releases.findById(pending.release_id))
        : null,
      lastDeployment: lastDeployment ? lastRef(lastDeployment) : null,
      built: built ? releaseRef(built) : null,
      pinned: policy?.pinned === 1 ? { reason: policy.pin_reason } : null,
      sync,
      declaredError: declaredError?.message ?? null,
    };
    const story = describeStory(facts);
    return {
      host: name,
      mode: host.mode,
      policy: host.mode === 'monitor' ? 'monitor' : (policy?.policy ?? 'manual'),
      online: host.status === 'online',
      state: story.state,
      summary: story.summary,
      details: story.details,
      declared:
        head.evaluated && declaredDrv
          ? { revisionId: head.evaluated.id, sha: head.evaluated.sha, drvPath: declaredDrv }
          : null,
      declaredError,
      built: built
        ? {
            releaseId: built.id,
            revisionId: built.revision_id,
            sha: built.sha,
            storePath: built.store_path,
            status: built.status,
          }
        : null,
      pending: pending
        ? {
            deploymentId: pending.id,
            status: pending.status,
            releaseId: pending.release_id,
            storePath: pending.store_path,
            approvedBy: pending.approved_by,
            holdReason: pending.hold_reason,
          }
        : null,
      running: running
        ? {
            storePath: running,
            releaseId: runningRelease?.id ?? null,
            revisionId: runningRelease?.revision_id ?? null,
            sha: runningRelease?.sha ?? null,
          }
        : null,
      verified:
        verifiedBy && host.status === 'online' && running
          ? { deploymentId: verifiedBy.id, storePath: running, at: verifiedBy.finished_at }
          : null,
      lastDeployment: lastDeployment
        ? {
            deploymentId: lastDeployment.id,
            kind: lastDeployment.kind,
            status: lastDeployment.status,
            storePath: lastDeployment.store_path,
            finishedAt: lastDeployment.finished_at,
            error: lastDeployment.error_message,
          }
        : null,
      pinned: policy?.pinned === 1 ? { reason: policy.pin_reason } : null,
      sync,
    };
  }

  /** The running revision of each host against the branch head (for host lists). */
  async withSync(hosts: readonly Host[]): Promise<Host[]> {
    const { store } = this.options;
    const head = await this.head();
    const ended = await store.deployments.latestEndedOf(hosts.map((h) => h.name));
    const running = new Map<string, string>();
    for (const host of hosts) {
      const current = runningSystem(host, ended.get(host.name));
      if (current) running.set(host.name, current);
    }
    const releases = await store.releases.forRunningSystems(running);
    const deployed = await store.deployments.succeededSystemsOf(hosts.map((h) => h.name));
    const out: Host[] = [];
    for (const host of hosts) {
      const release = releases.find((r) => r.host_name === host.name);
      const current = running.get(host.name);
      const systems = deployed.get(host.name);
      const byDeployment =
        current !== undefined && systems?.has(current) ? { store_path: current } : undefined;
      out.push({
        ...host,
        sync: await this.syncOf(
          host,
          current ?? null,
          head,
          release,
          byDeployment,
          systems !== undefined,
        ),
      });
    }
    return out;
  }

  async withSyncOne(host: Host): Promise<Host> {
    const [withSync] = await this.withSync([host]);
    return withSync ?? host;
  }

  private async head(): Promise<Head> {
    const { store, repositoryId } = this.options;
    const latest = await store.evaluations.latestBranch(repositoryId);
    const evaluated =
      latest?.status === 'evaluated'
        ? latest
        : await store.evaluations.latestEvaluatedBranch(repositoryId);
    let history: Promise<EvaluatedRevision[]> | undefined;
    return {
      latest,
      evaluated,
      evaluation: parseEvaluation(evaluated?.evaluation_json ?? null),
      history: () =>
        (history ??= store.evaluations
          .evaluatedBranchHistory(repositoryId, DRIFT_HISTORY)
          .then((rows) =>
            rows.map((row) => ({
              id: row.id,
              sha: row.sha,
              evaluation: parseEvaluation(row.evaluation_json),
            })),
          )),
    };
  }

  /**
   * With the host's declared output evaluated at the branch head (every host, Macs
   * included; never built): up to date when the host runs it, behind when it runs what an
   * older revision evaluated to (by how many commits, when git can tell). Otherwise, for a
   * managed NixOS host, from releases and deployments: behind when it runs an older release
   * or a system a deployment put there, drifted when nothing Flotilla did explains what runs
   * (once it deployed there), unknown otherwise. A Mac or monitor host that runs none of its
   * evaluated outputs has drifted; unknown when its output does not evaluate.
   */
  private async syncOf(
    host: Host,
    system: string | null,
    head: Head,
    runningRelease: ReleaseView | undefined,
    deployedRunning: Pick<DeploymentRow, 'store_path'> | undefined,
    deployedBefore: boolean,
  ): Promise<HostSync> {
    const headSha = head.latest?.sha ?? null;
    const output = declaredOutput(host.name, this.options.hostSettings?.[host.name]);
    const declaredPath = evaluatedPath(head.evaluation, output);
    const running = runningOutput(host, output, system);
    const base = {
      output,
      declaredPath,
      runningPath: running,
      runningReleaseId: runningRelease?.id ?? null,
      runningRevisionId: runningRelease?.revision_id ?? null,
      runningSha: runningRelease?.sha ?? null,
      headSha,
      behindBy: null,
    };
    if (running === null) return { state: 'unknown', ...base };
    if (declaredPath !== null) {
      if (running === declaredPath) {
        return {
          state: 'up_to_date',
          ...base,
          runningRevisionId: base.runningRevisionId ?? head.evaluated?.id ?? null,
          runningSha: base.runningSha ?? head.evaluated?.sha ?? null,
        };
      }
      const older = revisionDeclaring(await head.history(), output, running);
      if (older) {
        const behindBy =
          headSha && headSha !== older.sha
            ? await this.options.commits.commitsBetween(older.sha, headSha)
            : null;
        return {
          state: 'behind',
          ...base,
          runningRevisionId: older.id,
          runningSha: older.sha,
          behindBy,
        };
      }
    }
    if (host.mode === 'monitor' || output.kind !== 'nixos') {
      return { state: declaredPath === null ? 'unknown' : 'drifted', ...base };
    }
    if (!runningRelease) {
      if (deployedRunning) return { state: 'behind', ...base };
      return { state: deployedBefore ? 'drifted' : 'unknown', ...base };
    }
    const declared = head.evaluation?.nixos[host.name];
    if (declared !== undefined ? declared === runningRelease.drv_path : true) {
      return { state: 'up_to_date', ...base };
    }
    const behindBy =
      headSha && headSha !== runningRelease.sha
        ? await this.options.commits.commitsBetween(runningRelease.sha, headSha)
        : null;
    return { state: 'behind', ...base, behindBy };
  }
}

function releaseRef(release: ReleaseView | undefined): StoryFacts['built'] {
  return release
    ? {
        id: release.id,
        sha: release.sha,
        message: release.message.split('\n')[0] ?? '',
        storePath: release.store_path,
        status: release.status,
      }
    : null;
}

function pendingRef(row: DeploymentRow): NonNullable<StoryFacts['pending']> {
  return {
    id: row.id,
    status: row.status,
    holdReason: row.hold_reason,
    approvedBy: row.approved_by,
    kind: row.kind,
  };
}

function lastRef(row: DeploymentRow): NonNullable<StoryFacts['lastDeployment']> {
  return {
    id: row.id,
    status: row.status,
    kind: row.kind,
    storePath: row.store_path,
    error: row.error_message,
  };
}

/**
 * What the host runs: the agent's facts, unless a deployment ended after they were
 * collected; then the system the agent read back at its end (the facts follow shortly).
 */
function runningSystem(host: Host, lastEnded: DeploymentRow | undefined): string | null {
  const reported = host.facts?.system.current ?? null;
  if (!lastEnded?.result_system || !lastEnded.finished_at) return reported;
  const factsAt = host.facts?.collectedAt ?? host.factsAt;
  if (factsAt === null || factsAt === undefined) return lastEnded.result_system;
  return Date.parse(lastEnded.finished_at) > Date.parse(factsAt)
    ? lastEnded.result_system
    : reported;
}
