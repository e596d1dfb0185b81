import type { Command } from './command.js';
import { deployCommand, deploymentCommand, deploymentsCommand } from './deployments.command.js';
import { healthCommand } from './health.command.js';
import { hostAddCommand, hostCommand, hostsCommand } from './hosts.command.js';

/** Every command, in the order help lists them. */
export const COMMANDS: readonly Command[] = [
  hostsCommand,
  hostCommand,
  hostAddCommand,
  deployCommand,
  deploymentsCommand,
  deploymentCommand,
  healthCommand,
];
