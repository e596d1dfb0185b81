import type { Clock } from '@flotilla/runtime';
import type { ControllerConfig, FailureLimitConfig } from '../config.js';
import { ConnectionLimiter, FailureLimiter, type FailureLimitPolicy } from './rate-limit.js';
import { TrustedProxies } from './trusted-proxies.js';

/** What stands between the internet and the controller's secrets, made once from the config. */
export interface RequestGuards {
  trustedProxies: TrustedProxies;
  limits: { api: FailureLimiter; webhook: FailureLimiter; hosts: FailureLimiter };
  agentConnections: ConnectionLimiter;
}

export function createRequestGuards(
  config: Pick<ControllerConfig, 'trustedProxies' | 'limits'>,
  clock: Clock,
): RequestGuards {
  const { limits } = config;
  return {
    trustedProxies: new TrustedProxies(config.trustedProxies),
    limits: {
      api: new FailureLimiter(policy(limits.apiFailures), clock),
      webhook: new FailureLimiter(policy(limits.webhookFailures), clock),
      hosts: new FailureLimiter(policy(limits.hostFailures), clock),
    },
    agentConnections: new ConnectionLimiter({
      perAddress: limits.agentConnectionsPerAddress,
      total: limits.agentConnectionsTotal,
    }),
  };
}

function policy(config: FailureLimitConfig): FailureLimitPolicy {
  return {
    maxFailures: config.maxFailures,
    windowMs: config.windowSeconds * 1000,
    lockoutMs: config.lockoutSeconds * 1000,
    maxLockoutMs: config.maxLockoutSeconds * 1000,
  };
}
