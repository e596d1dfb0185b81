import { ActivationPlan, ErrorCode, type DeploymentPlan } from '@flotilla/protocol';
import type { DeploymentRow } from '../storage/deployment.repository.js';
import type { PlanRow } from '../storage/plan.repository.js';

/**
 * A deployment's plan as the API shows it. A deployment without a plan row (it never
 * waited: a deploy that started at once, or one from before plans existed) has none to
 * show, and says so.
 */
export function planView(deployment: DeploymentRow, row: PlanRow | undefined): DeploymentPlan {
  if (row === undefined) {
    return {
      deploymentId: deployment.id,
      host: deployment.host_name,
      state: 'unavailable',
      reason: 'no plan was prepared for this deployment (it never waited)',
      code: null,
      plan: null,
      requestedAt: null,
      updatedAt: deployment.created_at,
    };
  }
  const code = row.code === null ? null : ErrorCode.safeParse(row.code);
  return {
    deploymentId: row.deployment_id,
    host: row.host_name,
    state: row.state,
    reason: row.reason,
    code: code?.success ? code.data : null,
    plan: row.state === 'ready' ? parsePlan(row.plan_json) : null,
    requestedAt: row.requested_at,
    updatedAt: row.updated_at,
  };
}

/** A stored plan, checked again on the way out; null when missing or not understood. */
function parsePlan(json: string | null): ActivationPlan | null {
  if (json === null) return null;
  try {
    const parsed = ActivationPlan.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
