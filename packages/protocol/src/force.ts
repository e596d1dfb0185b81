import * as z from 'zod';

/** `--force` needs a reason: it is written to the audit log. */
export const ForceFields = {
  /** Skip the rollout's earlier waves and closed deploy windows; deploy a quarantined release. */
  force: z.boolean().default(false),
  /** Why (required with `force`; recorded in the audit log). */
  reason: z.string().min(1).max(2000).optional(),
};

/** Refuses `force` without a reason. */
export function forceNeedsReason(value: { force: boolean; reason?: string | undefined }): boolean {
  return !value.force || (value.reason !== undefined && value.reason.trim() !== '');
}
export const FORCE_REASON_MESSAGE = 'force needs a reason (it is written to the audit log)';
