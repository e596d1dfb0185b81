export { Agent, type AgentOptions } from './agent.js';
export { Backoff, cappedDelayMs, fullJitterDelayMs, type BackoffOptions } from './backoff.js';
export { systemClock, type CancelTimer, type Clock } from './clock.js';
export { loadConfig, type AgentConfig, type ConfigResult, type ConfigSources } from './config.js';
export {
  ControllerConnection,
  type ConnectionHandlers,
  type ControllerConnectionOptions,
} from './connection.js';
export { createAgent, hostOs } from './create-agent.js';
export {
  ChildProcessActivator,
  type ActivationOutcome,
  type ActivationRequest,
  type Activator,
} from './deploy/activator.js';
export {
  DeploymentExecutor,
  type DeploymentExecutorOptions,
  type DeploymentReporter,
} from './deploy/deployment-executor.js';
export { DeploymentOutbox, type MessageSink } from './deploy/deployment-outbox.js';
export { DeployLogBatcher } from './deploy/log-batcher.js';
export { NixStore, type StepOutcome, type SystemStore } from './deploy/nix-store.js';
export { factsChanged } from './facts/facts-change.js';
export { FactsCollector, type FactsCollectorOptions } from './facts/facts-collector.js';
export { nodeHostSources, type HostSources } from './facts/host-sources.js';
export { Logger, type LogLevel } from './logger.js';
export { ChildProcessRunner, type ProcessRunner, type RunResult } from './process-runner.js';
