import {
  Deployment,
  FINAL_DEPLOYMENT_STATUSES,
  type DeploymentDecision,
  type DeploymentStatus,
  type LogPage,
} from '@flotilla/protocol';
import type { ApiClient } from './api-client.js';
import { timeFormat, type CommandContext } from './command.js';
import { renderCreatedDeployment, renderFinalStatus, renderLogLine } from './deployments.view.js';
import { logHeading } from './format.js';

/** Pause between polls when there were no new lines, in milliseconds. */
export const FOLLOW_INTERVAL_MS = 1000;
/** Lines asked for per poll; a full page means more are waiting, so the next poll is at once. */
export const FOLLOW_PAGE_SIZE = 1000;

/** How to poll a deployment's log. */
export interface PollOptions {
  /** Start after this sequence number (0 for the whole log). */
  after: number;
  sleep(ms: number): Promise<void>;
  onPage(page: LogPage): void;
}

/**
 * Polls `/deployments/:id/log` until the deployment is final and its log is drained, and
 * returns the final status. Lines may still land after the status turned final (the result
 * and the last lines travel separately), so a final status ends the loop only on an empty page.
 */
export async function pollLog(
  client: ApiClient,
  id: string,
  options: PollOptions,
): Promise<DeploymentStatus> {
  let after = options.after;
  for (;;) {
    const page = await client.call('getDeploymentLog', {
      params: { id },
      query: { after, limit: FOLLOW_PAGE_SIZE },
    });
    options.onPage(page);
    after = page.last;
    const final = FINAL_DEPLOYMENT_STATUSES.has(page.status);
    if (final && page.lines.length === 0) return page.status;
    if (!final && page.lines.length < FOLLOW_PAGE_SIZE) await options.sleep(FOLLOW_INTERVAL_MS);
  }
}

/**
 * Follows a deployment to its end: prints new log lines (and status changes) as they come,
 * then the final status. With `--json`, each log page with news and the final deployment are
 * printed as one JSON document per line. Resolves to 0 if it succeeded, else 1.
 */
export async function followDeployment(
  context: CommandContext,
  id: string,
  start: { after: number; status: DeploymentStatus },
): Promise<number> {
  let lastStatus = start.status;
  await pollLog(context.client, id, {
    after: start.after,
    sleep: (ms) => context.sleep(ms),
    onPage(page) {
      const changed = page.status !== lastStatus;
      lastStatus = page.status;
      if (context.json) {
        if (changed || page.lines.length > 0) context.out(JSON.stringify(page));
        return;
      }
      const time = timeFormat(context);
      for (const line of page.lines) context.out(renderLogLine(line, time));
      if (changed) context.out(`-- ${page.status}`);
    },
  });
  // The log page carries only the status; the deployment has the exit code and the error.
  const final = Deployment.parse(await context.client.call('getDeployment', { params: { id } }));
  context.out(context.json ? JSON.stringify(final) : renderFinalStatus(final));
  return final.status === 'succeeded' ? 0 : 1;
}

/**
 * Prints what a deploy or rollback decided (the deployment, and notes such as "approved the
 * deployment that waited for it"), and with `following` follows it to its end. Resolves to
 * the exit code: 0 when not following, else 0 only if it succeeded.
 */
export async function printDecision(
  context: CommandContext,
  decision: DeploymentDecision,
  following: boolean,
): Promise<number> {
  const { deployment } = decision;
  if (!following) {
    if (context.json) context.out(JSON.stringify(decision, null, 2));
    else context.out(renderCreatedDeployment(deployment, decision.notes));
    return 0;
  }
  if (context.json) context.out(JSON.stringify(decision));
  else
    context.out(
      `${renderCreatedDeployment(deployment, decision.notes)}\n${logHeading(timeFormat(context))}`,
    );
  return followDeployment(context, deployment.id, { after: 0, status: deployment.status });
}
