import type { OverviewHost, Release } from '@flotilla/protocol';
import { useState } from 'react';
import type { ApiClient } from '../../api/api-client.js';
import { messageOf } from '../../api/api-error.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { approvalsByRevision } from './overview-model.js';

/** What a bulk action did, line by line, for the notice above the list. */
export interface BulkResult {
  ok: boolean;
  lines: string[];
}

type Step =
  | { kind: 'approve' }
  | { kind: 'deploy'; plan: { host: string; release: Release }[]; skipped: string[] };

/**
 * Approve or deploy the chosen hosts at once (operators). Approvals go as one decision per
 * revision, all or nothing (the controller refuses the whole decision if one host may not
 * move, and says which); a deploy sends each chosen managed host its newest ready release.
 */
export function BulkActions(props: {
  api: ApiClient;
  chosen: readonly OverviewHost[];
  onDone: (result: BulkResult) => void;
  onError: (error: unknown) => void;
}) {
  const { api, chosen } = props;
  const [step, setStep] = useState<Step | null>(null);
  const [busy, setBusy] = useState(false);
  const groups = approvalsByRevision(chosen);
  const waiting = groups.reduce((n, g) => n + g.deploymentIds.length, 0);
  const managed = chosen.filter((h) => h.host.mode === 'managed');

  const approve = async (comment: string) => {
    setBusy(true);
    const lines: string[] = [];
    let ok = true;
    for (const group of groups) {
      const base = { decision: 'approve' as const, ...(comment ? { comment } : {}) };
      try {
        const answer =
          group.revisionId !== null
            ? await api.call('decide', {
                body: { ...base, revisionId: group.revisionId, hosts: group.hosts },
              })
            : await api.call('decide', {
                body: { ...base, deploymentId: group.deploymentIds[0] ?? '' },
              });
        for (const d of answer.decided) {
          lines.push(
            `${d.host}: ${d.status.replace(/_/g, ' ')}${d.holdReason ? ` (${d.holdReason})` : ''}`,
          );
        }
      } catch (error) {
        ok = false;
        lines.push(`${group.hosts.join(', ')}: ${messageOf(error)}`);
      }
    }
    setBusy(false);
    setStep(null);
    props.onDone({ ok, lines });
  };

  const planDeploy = async () => {
    try {
      const { releases } = await api.call('listReleases', {
        query: { status: 'ready', limit: 500 },
      });
      const plan: { host: string; release: Release }[] = [];
      const skipped: string[] = [];
      for (const entry of managed) {
        const newest = releases
          .filter((r) => r.host === entry.host.name)
          .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
        if (newest) plan.push({ host: entry.host.name, release: newest });
        else skipped.push(entry.host.name);
      }
      setStep({ kind: 'deploy', plan, skipped });
    } catch (error) {
      props.onError(error);
    }
  };

  const deploy = async (plan: { host: string; release: Release }[], comment: string) => {
    setBusy(true);
    const lines: string[] = [];
    let ok = true;
    for (const { host, release } of plan) {
      try {
        const answer = await api.call('createDeployment', {
          body: { host, releaseId: release.id, ...(comment ? { comment } : {}) },
        });
        const d = answer.deployment;
        lines.push(
          `${host}: ${d.status.replace(/_/g, ' ')}${d.holdReason ? ` (${d.holdReason})` : ''}`,
        );
      } catch (error) {
        ok = false;
        lines.push(`${host}: ${messageOf(error)}`);
      }
    }
    setBusy(false);
    setStep(null);
    props.onDone({ ok, lines });
  };

  return (
    <div className="bulk-bar" aria-label="Bulk actions" role="group">
      <span>
        {chosen.length === 0 ? 'Select hosts for bulk actions' : `${chosen.length} selected`}
      </span>
      <button
        type="button"
        className="primary"
        disabled={waiting === 0}
        onClick={() => setStep({ kind: 'approve' })}
      >
        Approve waiting ({waiting})
      </button>
      <button type="button" disabled={managed.length === 0} onClick={() => void planDeploy()}>
        Deploy newest release ({managed.length})
      </button>
      {step?.kind === 'approve' && (
        <ConfirmDialog
          title={`Approve ${waiting} deployment${waiting === 1 ? '' : 's'}`}
          confirmLabel="Approve"
          withComment
          busy={busy}
          onConfirm={(comment) => void approve(comment)}
          onCancel={() => setStep(null)}
        >
          <ul>
            {groups.map((g) => (
              <li key={g.revisionId ?? g.deploymentIds.join()}>
                {g.revisionId ? `revision ${g.revisionId}` : 'deployment'}: {g.hosts.join(', ')}
              </li>
            ))}
          </ul>
          <p className="muted small">
            Each revision is decided all or nothing; waves and windows still apply.
          </p>
        </ConfirmDialog>
      )}
      {step?.kind === 'deploy' && (
        <ConfirmDialog
          title={`Deploy ${step.plan.length} host${step.plan.length === 1 ? '' : 's'}`}
          confirmLabel="Deploy"
          withComment
          busy={busy}
          onConfirm={(comment) => void deploy(step.plan, comment)}
          onCancel={() => setStep(null)}
        >
          {step.plan.length === 0 ? (
            <p>No chosen host has a ready release that it does not run yet.</p>
          ) : (
            <ul>
              {step.plan.map(({ host, release }) => (
                <li key={host}>
                  {host}: {release.sha.slice(0, 8)} {release.commitMessage.split('\n')[0]}
                </li>
              ))}
            </ul>
          )}
          {step.skipped.length > 0 && (
            <p className="muted small">Nothing new for: {step.skipped.join(', ')}</p>
          )}
        </ConfirmDialog>
      )}
    </div>
  );
}
