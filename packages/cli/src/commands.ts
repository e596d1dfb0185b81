import type { Command } from './command.js';
import {
  passwordCommand,
  totpConfirmCommand,
  totpDisableCommand,
  totpEnableCommand,
  whoamiCommand,
} from './account.command.js';
import { approvalsCommand, approveCommand, rejectCommand } from './approvals.command.js';
import { auditCommand } from './audit.command.js';
import {
  deployCommand,
  deploymentCancelCommand,
  deploymentCommand,
  deploymentPlanCommand,
  deploymentsCommand,
} from './deployments.command.js';
import {
  buildCancelCommand,
  buildCommand,
  buildRetryCommand,
  buildsCommand,
} from './builds.command.js';
import { cacheCommand } from './cache.command.js';
import {
  contextAddCommand,
  contextCommand,
  contextRemoveCommand,
  contextUseCommand,
} from './context.command.js';
import { healthCommand } from './health.command.js';
import { loginCommand, logoutCommand, setupCommand } from './login.command.js';
import { tokenCommand, tokenCreateCommand, tokenRevokeCommand } from './tokens.command.js';
import {
  userAddCommand,
  userCommand,
  userDisableCommand,
  userEnableCommand,
  userResetPasswordCommand,
  userResetTotpCommand,
  userRoleCommand,
} from './users.command.js';
import { rebootCommand, rollbackCommand } from './host-actions.command.js';
import {
  flakeHostsCommand,
  previewShowCommand,
  releaseCommand,
  releasesCommand,
} from './releases.command.js';
import {
  hostAddCommand,
  hostCommand,
  hostEnrollCommand,
  hostRemoveCommand,
  hostRevokeCommand,
  hostsCommand,
} from './hosts.command.js';
import { notificationsCommand } from './notifications.command.js';
import {
  repositoryCommand,
  repositoryLinkCommand,
  repositorySyncCommand,
} from './repository.command.js';
import { graduationCommand, pinCommand, policyCommand, unpinCommand } from './policy.command.js';
import {
  rolloutCommand,
  rolloutResumeCommand,
  statusCommand,
  wavesCommand,
} from './rollout.command.js';
import { previewCommand, revisionCommand, revisionsCommand } from './revisions.command.js';
import { waitCommand } from './wait.command.js';
import { mcpCommand } from './mcp.command.js';

/** Every command, in the order help lists them. */
export const COMMANDS: readonly Command[] = [
  hostsCommand,
  hostCommand,
  hostAddCommand,
  hostEnrollCommand,
  hostRevokeCommand,
  hostRemoveCommand,
  statusCommand,
  deployCommand,
  deploymentsCommand,
  deploymentCommand,
  deploymentPlanCommand,
  deploymentCancelCommand,
  rollbackCommand,
  rebootCommand,
  approvalsCommand,
  approveCommand,
  rejectCommand,
  policyCommand,
  pinCommand,
  unpinCommand,
  graduationCommand,
  wavesCommand,
  rolloutCommand,
  rolloutResumeCommand,
  auditCommand,
  notificationsCommand,
  repositoryCommand,
  repositoryLinkCommand,
  repositorySyncCommand,
  revisionsCommand,
  revisionCommand,
  previewCommand,
  waitCommand,
  releasesCommand,
  releaseCommand,
  buildsCommand,
  buildCommand,
  buildCancelCommand,
  buildRetryCommand,
  previewShowCommand,
  flakeHostsCommand,
  cacheCommand,
  healthCommand,
  mcpCommand,
  setupCommand,
  loginCommand,
  logoutCommand,
  whoamiCommand,
  passwordCommand,
  totpEnableCommand,
  totpConfirmCommand,
  totpDisableCommand,
  userCommand,
  userAddCommand,
  userRoleCommand,
  userDisableCommand,
  userEnableCommand,
  userResetPasswordCommand,
  userResetTotpCommand,
  tokenCommand,
  tokenCreateCommand,
  tokenRevokeCommand,
  contextCommand,
  contextUseCommand,
  contextAddCommand,
  contextRemoveCommand,
];
