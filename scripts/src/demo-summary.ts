/** What the demo prints once its fleet runs: where things are and what to try. */
import type {
  BuildList,
  DeploymentList,
  HostList,
  PendingApprovalList,
  ReleaseList,
} from '@flotilla/protocol';
import type { JsonClient } from '@flotilla/sandbox';

export interface SummaryOptions {
  url: string;
  contextFile: string;
  contextName: string;
  /** Null for a demo set up by this run; else when the resumed demo was first set up. */
  resumedFrom: string | null;
  /** The demo's admin, with the password generated for this demo. */
  admin: { username: string; password: string };
}

/** Counts what the controller holds, then prints the summary. */
export async function printSummary(api: JsonClient, options: SummaryOptions): Promise<void> {
  const [hostList, ready, approvals, deployments, queued, running] = await Promise.all([
    api.get<HostList>('/api/v1/hosts'),
    api.get<ReleaseList>('/api/v1/releases?status=ready'),
    api.get<PendingApprovalList>('/api/v1/approvals'),
    api.get<DeploymentList>('/api/v1/deployments?limit=500'),
    api.get<BuildList>('/api/v1/builds?status=queued&limit=500'),
    api.get<BuildList>('/api/v1/builds?status=running&limit=500'),
  ]);
  const hosts = hostList.body.hosts;
  const managed = hosts.filter((h) => h.mode === 'managed').length;
  const online = hosts.filter((h) => h.status === 'online').length;
  const waiting = approvals.body.approvals.length;
  const byStatus = new Map<string, number>();
  for (const d of deployments.body.deployments) {
    byStatus.set(d.status, (byStatus.get(d.status) ?? 0) + 1);
  }
  const deploymentText =
    byStatus.size === 0
      ? 'none yet'
      : [...byStatus].map(([status, n]) => `${n} ${status.replace(/_/g, ' ')}`).join(', ');
  const builds = queued.body.builds.length + running.body.builds.length;
  const { url, contextFile, contextName, resumedFrom, admin } = options;
  const how =
    resumedFrom === null
      ? 'set up from scratch in .demo'
      : `resumed from .demo, first set up ${resumedFrom}`;
  const hsb1System = hosts.find((h) => h.name === 'hsb1')?.facts?.system.current;
  console.log(`
Flotilla demo is running (${how}):
  ${online}/${hosts.length} hosts online (${managed} managed, ${hosts.length - managed} monitor-only)
  ${ready.body.releases.length} releases ready, ${waiting} waiting for approval, ${builds} builds queued or running
  deployments: ${deploymentText}

  Web UI           ${url}/   (log in as the admin below)
  Controller API   ${url}/api/v1   (OpenAPI: ${url}/api/v1/openapi.json)
  Admin            ${admin.username} / ${admin.password}   (generated for this demo, kept in
                   .demo/controller/sandbox-admin.json; \`npx flotilla login\` signs in with it)
  CLI context      ${contextFile} (context "${contextName}", now current, holding an
                   admin API token; \`npx flotilla --context ${contextName} …\` reaches this demo)
  Repository       .demo/github/origin.git (stands in for GitHub), edit in .demo/flake
  Logs             .demo/controller/controller.log, .demo/hosts/<host>/agent.log
  Saved state      .demo: the controller's database and state, the repository with your
                   commits, each host's sandbox (system profile, agent state, its key).
                   Ctrl-C keeps it; \`npm run demo\` resumes it, \`npm run demo -- --fresh\`
                   deletes it and starts over.

Phase 1 — every host waits for a human. In another terminal, from this directory:
  npx flotilla hosts
  npx flotilla approvals                      # ${waiting} waiting now
  npx flotilla approve <gpc0's deployment> --comment "looks good"   # the guinea pig first:
                                              # later waves wait for it and its soak
  npx flotilla deployments                    # it runs, is confirmed, and is verified
  npx flotilla status hsb1                    # where hsb1 stands, as one story
  npx flotilla rollback hsb1                  # back to its last good system (pins hsb1)

Phase 2 — gpc0 graduates first; the others follow in waves:
  npx flotilla graduation                     # who may be promoted, and what is missing
  npx flotilla policy gpc0 auto
  cd .demo/flake && sed -i 's/version = "1"/version = "2"/' hosts/*.nix
  git commit -qam "everything: version 2" && git push -q && cd ../..
  npx flotilla builds                         # the push hook called the signed webhook
  npx flotilla approvals                      # gpc0 deployed by itself; the rest wait
  npx flotilla hosts                          # who runs what: up to date, behind by N
                                              # (the Macs too: their home-manager output changed)
  npx flotilla audit                          # who did what, when, and why

Monitor-only hosts refuse deployments:
  npx flotilla deploy imac0 ${hsb1System ?? '/nix/store/…'}

Press Ctrl-C to stop (the state stays in .demo).`);
}
