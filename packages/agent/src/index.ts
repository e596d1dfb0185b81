export { Agent, type AgentOptions } from './agent.js';
export { Backoff, cappedDelayMs, fullJitterDelayMs, type BackoffOptions } from './backoff.js';
export { systemClock, type CancelTimer, type Clock } from '@flotilla/runtime';
// The settings reference, for docs/CONFIGURATION.md (scripts/src/config-reference.ts).
export {
  AGENT_CONFIG_FILE,
  AGENT_SETTINGS,
  agentConfigFileJsonSchema,
} from './config-reference.js';
export { FLAGS as AGENT_FLAGS } from './config-args.js';
export { ENV_NAMES as AGENT_ENV_NAMES } from './config.js';
export { DEFAULTS as AGENT_DEFAULTS } from './config-settings.js';
export {
  loadConfig,
  type ActivationSetting,
  type AgentConfig,
  type ConfigResult,
  type ConfigSources,
} from './config.js';
export {
  ControllerConnection,
  type ConnectionHandlers,
  type ControllerConnectionOptions,
} from './connection.js';
export { activationMode, createAgent, type HostEnvironment } from './create-agent.js';
export {
  describeActivation,
  type ActivationHandle,
  type ActivationOutcome,
  type ActivationStart,
  type Activator,
  type FollowOptions,
} from './deploy/activator.js';
export {
  DetachedActivator,
  type ActivationMode,
  type DetachedActivatorOptions,
} from './deploy/detached-activator.js';
export {
  DeploymentExecutor,
  type DeploymentExecutorOptions,
  type DeploymentReporter,
} from './deploy/deployment-executor.js';
export type { HostState } from './deploy/deployment-run.js';
export { DeploymentOutbox, type MessageSink } from './deploy/deployment-outbox.js';
export { HostHealthChecker, type HealthChecker } from './deploy/health-checks.js';
export { DeploymentJournal, JournalStore, type JournalPhase } from './deploy/journal.js';
export { DeployLogBatcher } from './deploy/log-batcher.js';
export { NixStore, type StepOutcome, type SystemStore } from './deploy/nix-store.js';
export { factsChanged } from './facts/facts-change.js';
export { FactsCollector, type FactsCollectorOptions } from './facts/facts-collector.js';
export { nodeHostSources, type HostSources } from './facts/host-sources.js';
export { Logger, type LogLevel } from '@flotilla/runtime';
export { ChildProcessRunner, type ProcessRunner, type RunResult } from '@flotilla/runtime';
export { RebootManager, type RebootManagerOptions } from './reboot/reboot-manager.js';
