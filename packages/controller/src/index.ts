export { Controller, type ControllerOptions } from './controller.js';
export { ControllerConfig, loadConfig, ConfigError } from './config.js';
export { AGENT_GATEWAY_PATH } from './gateway/agent.gateway.js';
