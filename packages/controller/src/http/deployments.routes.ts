import type { AuditService } from '../audit/audit.service.js';
import type { BinaryCacheService } from '../cache/cache.service.js';
import type { DeploymentService } from '../deployments/deployment.service.js';
import type { NotificationService } from '../notifications/notification.service.js';
import type { ApprovalService } from '../rollout/approval.service.js';
import type { DeployCommands } from '../rollout/deploy.commands.js';
import type { PolicyService } from '../rollout/policy.service.js';
import type { RolloutService } from '../rollout/rollout.service.js';
import type { ApiHandlers } from './route.js';

export interface DeploymentRouteServices {
  deployments: DeploymentService;
  commands: DeployCommands;
  approvals: ApprovalService;
  policies: PolicyService;
  rollout: RolloutService;
  audit: AuditService;
  notifications: Pick<NotificationService, 'list'>;
  cache: Pick<BinaryCacheService, 'info'>;
}

type DeploymentRoutes = Pick<
  ApiHandlers,
  | 'createDeployment'
  | 'listDeployments'
  | 'getDeployment'
  | 'getDeploymentLog'
  | 'getDeploymentPlan'
  | 'cancelDeployment'
  | 'listApprovals'
  | 'decide'
  | 'listPolicies'
  | 'graduation'
  | 'listWaves'
  | 'listWindows'
  | 'getRollout'
  | 'resumeRollout'
  | 'listAudit'
  | 'listNotifications'
  | 'getCacheInfo'
>;

/** Deployments, approvals, policies, rollouts, the audit log, notifications, cache info. */
export function deploymentRoutes(s: DeploymentRouteServices): DeploymentRoutes {
  return {
    createDeployment: ({ body, actor }) => s.commands.deploy(body, actor),
    listDeployments: ({ query }) => s.deployments.list(query),
    getDeployment: ({ params }) => s.deployments.get(params.id),
    getDeploymentLog: ({ params, query }) => s.deployments.readLog(params.id, query),
    getDeploymentPlan: ({ params }) => s.deployments.plan(params.id),
    cancelDeployment: ({ params, body, actor }) => s.deployments.cancel(params.id, body, actor),
    listApprovals: () => s.approvals.pending(),
    decide: ({ body, actor }) => s.approvals.decide(body, actor),
    listPolicies: () => s.policies.list(),
    graduation: () => s.policies.graduation(),
    listWaves: async () => s.rollout.waves(),
    listWindows: async () => s.rollout.windows(),
    getRollout: ({ params }) => s.rollout.rollout(params.id),
    resumeRollout: ({ params, body, actor }) => s.rollout.resume(params.id, body, actor),
    listAudit: ({ query }) => s.audit.list(query),
    listNotifications: ({ query }) => s.notifications.list(query.limit),
    getCacheInfo: async () => s.cache.info(),
  };
}
