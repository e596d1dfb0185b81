import type { DeployResult, Deployment, DeploymentStatus } from '@flotilla/protocol';
import type { DeploymentRow } from '../storage/deployment.repository.js';

export interface Verdict {
  status: DeploymentStatus;
  errorCode: string | null;
  errorMessage: string | null;
  note: string | null;
}

/**
 * Decides the final status. A deployment that changes the running system succeeds only
 * when the agent's freshly read current system is the deployed store path: an exit code
 * of 0 alone is not proof. A system that needs a reboot is not running yet, and says so.
 */
export function judgeResult(row: DeploymentRow, message: DeployResult): Verdict {
  switch (message.outcome) {
    case 'rolled_back':
      return {
        status: 'rolled_back',
        errorCode: message.error?.code ?? null,
        errorMessage: message.rollbackReason ?? message.error?.message ?? 'rolled back',
        note: `rolled back to ${message.previousSystem ?? message.currentSystem ?? 'the previous system'}: ${message.rollbackReason ?? 'no reason given'}`,
      };
    case 'failed':
    case 'refused':
      return {
        status: 'failed',
        errorCode: message.error?.code ?? 'activation_failed',
        errorMessage: message.error?.message ?? `agent reported ${message.outcome}`,
        note: null,
      };
    case 'succeeded':
      break;
  }
  if (message.rebootRequired) {
    return {
      status: 'succeeded',
      errorCode: null,
      errorMessage: null,
      note: 'the new system is the boot default; reboot the host to run it (flotilla reboot)',
    };
  }
  const changesRunningSystem = row.action === 'switch' || row.action === 'test';
  if (changesRunningSystem && message.currentSystem !== row.store_path) {
    const running = message.currentSystem ?? 'nothing';
    return {
      status: 'failed',
      errorCode: 'verification_failed',
      errorMessage: `activation reported success but the host runs ${running}, not ${row.store_path}`,
      note: `verification failed: host runs ${running}`,
    };
  }
  return {
    status: 'succeeded',
    errorCode: null,
    errorMessage: null,
    note: changesRunningSystem ? `verified: the host runs ${row.store_path}` : null,
  };
}

export function toDeployment(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    host: row.host_name,
    storePath: row.store_path,
    releaseId: row.release_id,
    action: row.action,
    status: row.status,
    phase: (row.phase as Deployment['phase']) ?? null,
    actor: row.actor,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    exitCode: row.exit_code,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    resultSystem: row.result_system,
    kind: row.kind,
    previousSystem: row.previous_system,
    rebootRequired: row.reboot_required === 1,
    revisionId: row.revision_id,
    approvedBy: row.approved_by,
    approvalComment: row.approval_comment,
    holdReason: row.hold_reason,
    forced: row.override_wave === 1 || row.override_window === 1,
    forceReason: row.force_reason,
  };
}
