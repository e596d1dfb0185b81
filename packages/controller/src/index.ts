export { Controller, type ControllerOptions, type ControllerServices } from './controller.js';
export type { NixAdapter, RealiseOptions, RealiseResult } from './adapters/nix.js';
export { Store } from './storage/store.js';
export { ControllerConfig, loadConfig, ConfigError } from './config.js';
// The settings reference, for docs/CONFIGURATION.md (scripts/src/config-reference.ts).
export {
  CONTROLLER_CONFIG_FILE,
  CONTROLLER_SETTINGS,
  controllerConfigJsonSchema,
} from './config.reference.js';
export { AGENT_GATEWAY_PATH } from './gateway/agent.gateway.js';
// The binary cache's publishing side, for tools and tests that publish into a controller's
// state directory (the controller itself publishes through its release service).
export {
  CachePublisher,
  type CachePublisherOptions,
  type PublishInput,
  type ReleasePublisher,
} from './cache/cache.publisher.js';
export { cacheDirs } from './cache/cache.composition.js';
export { loadOrCreateSigningKey, type SigningKey } from './cache/signing-key.js';
export { CacheRepository } from './storage/cache.repository.js';
export { openDatabase, type Db } from './storage/database.js';
// Flake evaluation as the pipeline runs it, for benchmarks.
export {
  evaluateFlakeHosts,
  type FlakeHostsEvaluation,
  type HostEvaluationOptions,
  type NixCommand,
} from './adapters/nix-evaluation.js';
