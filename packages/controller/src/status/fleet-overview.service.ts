import {
  OPEN_DEPLOYMENT_STATUSES,
  type FleetOverview,
  type Host,
  type OverviewHost,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { HostService } from '../hosts/host.service.js';
import type { ApprovalService } from '../rollout/approval.service.js';
import type { PolicyService } from '../rollout/policy.service.js';
import type { DeploymentRow } from '../storage/deployment.repository.js';
import type { Store } from '../storage/store.js';
import type { HostStatusService } from './host-status.service.js';

export interface FleetOverviewOptions {
  store: Store;
  hosts: Pick<HostService, 'list'>;
  status: Pick<HostStatusService, 'withSync'>;
  policies: Pick<PolicyService, 'list' | 'graduation'>;
  approvals: Pick<ApprovalService, 'pending'>;
  clock: Clock;
}

/** Hosts per page while reading the registry (its largest page). */
const PAGE = 1000;

/**
 * The fleet view's read model: every host with its running revision, policy, graduation,
 * pin, waiting approvals, open and last deployment — a fixed number of queries whatever the
 * fleet's size, so the web UI needs one request instead of one per host. Reads only.
 */
export class FleetOverviewService {
  constructor(private readonly options: FleetOverviewOptions) {}

  async overview(): Promise<FleetOverview> {
    const { store, clock } = this.options;
    const hosts = await this.allHosts();
    const names = hosts.map((h) => h.name);
    const [withSync, policies, graduation, approvals, ended, open] = await Promise.all([
      this.options.status.withSync(hosts),
      this.options.policies.list(),
      this.options.policies.graduation(),
      this.options.approvals.pending(),
      store.deployments.latestEndedOf(names),
      store.deployments.withStatus(OPEN_DEPLOYMENT_STATUSES),
    ]);
    const policyOf = new Map(policies.policies.map((p) => [p.host, p]));
    const graduationOf = new Map(graduation.hosts.map((g) => [g.host, g]));
    const openOf = newestByHost(open);
    const approvalsOf = new Map<string, OverviewHost['pendingApprovals']>();
    for (const a of approvals.approvals) {
      const list = approvalsOf.get(a.host) ?? [];
      list.push({
        deploymentId: a.deploymentId,
        releaseId: a.releaseId,
        revisionId: a.revisionId,
        sha: a.sha,
      });
      approvalsOf.set(a.host, list);
    }
    return {
      hosts: withSync.map((host): OverviewHost => {
        const policy = policyOf.get(host.name);
        const grad = graduationOf.get(host.name);
        const last = ended.get(host.name);
        const pending = openOf.get(host.name);
        return {
          host,
          policy: host.mode === 'monitor' ? 'monitor' : (policy?.policy ?? 'manual'),
          pinned: policy?.pinned ?? false,
          pinReason: policy?.pinReason ?? null,
          wave: policy?.wave ?? null,
          graduation:
            host.mode === 'monitor' || !grad
              ? null
              : {
                  stableDays: grad.stableDays,
                  requiredDays: grad.requiredDays,
                  eligible: grad.eligible,
                },
          pendingApprovals: approvalsOf.get(host.name) ?? [],
          openDeployment: pending
            ? { id: pending.id, status: pending.status, holdReason: pending.hold_reason }
            : null,
          lastDeployment: last
            ? {
                id: last.id,
                kind: last.kind,
                status: last.status,
                finishedAt: last.finished_at,
                error: last.error_message,
              }
            : null,
        };
      }),
      headSha: withSync.find((h) => h.sync?.headSha)?.sync?.headSha ?? null,
      generatedAt: clock.now().toISOString(),
    };
  }

  private async allHosts(): Promise<Host[]> {
    const hosts: Host[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.options.hosts.list({ limit: PAGE, cursor });
      hosts.push(...page.hosts);
      if (page.nextCursor === null) return hosts;
      cursor = page.nextCursor;
    }
  }
}

/** Each host's newest row (by creation) among `rows`. */
function newestByHost(rows: readonly DeploymentRow[]): Map<string, DeploymentRow> {
  const out = new Map<string, DeploymentRow>();
  for (const row of rows) {
    const seen = out.get(row.host_name);
    if (!seen || row.created_at > seen.created_at) out.set(row.host_name, row);
  }
  return out;
}
