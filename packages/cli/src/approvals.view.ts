import type { DecisionResult, PendingApproval, PendingApprovalList } from '@flotilla/protocol';
import type { DecisionTarget } from './decision-target.js';
import { columns, firstLine, shortStorePath, table, type TimeFormat } from './format.js';
import { planSummary } from './plan.view.js';

/** Why a waiting deployment deserves a second look; upper case so it stands out in the table. */
export function approvalNote(approval: PendingApproval): string {
  const notes: string[] = [];
  if (approval.halted) notes.push('HALTED');
  if (approval.isRollback) notes.push('ROLLBACK');
  if (approval.quarantined) notes.push('QUARANTINED');
  return notes.join(', ');
}

/** `abcdef12 Subject line`, or "-" when the deployment came from a bare store path. */
export function commitLabel(sha: string | null, message: string | null): string {
  if (sha === null) return '-';
  const subject = message === null ? '' : ` ${firstLine(message, 40)}`;
  return `${sha.slice(0, 8)}${subject}`;
}

/** The deployments that wait for a human, with how to decide them. */
export function renderApprovalTable(list: PendingApprovalList, time: TimeFormat): string {
  if (list.approvals.length === 0) return 'nothing waits for approval';
  const rows = list.approvals.map((a) => [
    a.deploymentId,
    a.host,
    a.wave ?? '-',
    commitLabel(a.sha, a.commitMessage),
    shortStorePath(a.storePath),
    time.since(a.createdAt),
    planSummary(a.plan),
    approvalNote(a),
  ]);
  const headers = ['DEPLOYMENT', 'HOST', 'WAVE', 'COMMIT', 'SYSTEM', 'WAITING', 'CHANGES', 'NOTE'];
  const footer = [
    '',
    `${list.approvals.length} waiting. Decide with: flotilla approve|reject DEPLOYMENT|RELEASE|REVISION`,
    'CHANGES: what the host will change, prepared by its agent; in full: flotilla deployment plan DEPLOYMENT',
  ];
  if (list.approvals.some((a) => a.isRollback)) {
    footer.push(
      'ROLLBACK: the host runs a newer release; approving puts back an older one and pins the host.',
    );
  }
  if (list.approvals.some((a) => a.quarantined)) {
    footer.push(
      'QUARANTINED: the release rolled back before; approving needs --force --reason "…".',
    );
  }
  for (const revision of new Set(list.approvals.filter((a) => a.halted).map((a) => a.revisionId))) {
    footer.push(
      `HALTED: the rollout of ${revision ?? '?'} is halted; approving is refused until: flotilla rollout resume ${revision ?? '?'} --reason "…"`,
    );
  }
  return [table(headers, rows), ...footer].join('\n');
}

/**
 * What a decision did: one line per deployment with its new status, and its notes under it
 * behind "NOTE:" so a rollback or an overridden window is not lost in the list.
 */
export function renderDecision(
  result: DecisionResult,
  decision: 'approve' | 'reject',
  target: DecisionTarget,
): string {
  const verb = decision === 'approve' ? 'approved' : 'rejected';
  const { decided } = result;
  if (decided.length === 0) return `nothing ${verb} (${target.kind} ${target.id})`;
  const noun = decided.length === 1 ? 'deployment' : 'deployments';
  const lines = columns(
    decided.map((d) => [
      `  ${d.deploymentId}`,
      d.host,
      d.holdReason === null ? d.status : `${d.status}, waiting: ${d.holdReason}`,
    ]),
  ).split('\n');
  const body = decided.flatMap((d, index) => [
    lines[index] ?? '',
    ...d.notes.map((note) => `      NOTE: ${note}`),
  ]);
  return [`${verb} ${decided.length} ${noun} (${target.kind} ${target.id}):`, ...body].join('\n');
}
