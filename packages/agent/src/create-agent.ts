import { join } from 'node:path';
import { FLOTILLA_VERSION, PROTOCOL_VERSION, type HostOs } from '@flotilla/protocol';
import { Agent } from './agent.js';
import { systemClock } from './clock.js';
import type { AgentConfig } from './config.js';
import { ChildProcessActivator } from './deploy/activator.js';
import { NixStore } from './deploy/nix-store.js';
import { FactsCollector } from './facts/facts-collector.js';
import { nodeHostSources } from './facts/host-sources.js';
import type { Logger } from './logger.js';
import { ChildProcessRunner } from './process-runner.js';

/** Delay before the first reconnect attempt at most (ms); later ones double up to the cap. */
const RECONNECT_BASE_MS = 1000;

/** The operating system reported in hello and facts. */
export function hostOs(): HostOs {
  return process.platform === 'darwin' ? 'darwin' : 'linux';
}

/** Builds an agent on the real host, Nix and network from a parsed configuration. */
export function createAgent(config: AgentConfig, logger: Logger): Agent {
  const runner = new ChildProcessRunner();
  const os = hostOs();
  const capMs = config.reconnectMaxSeconds * 1000;
  return new Agent({
    mode: config.mode,
    connection: {
      url: config.controllerUrl,
      token: config.token,
      hello: {
        protocolVersion: PROTOCOL_VERSION,
        host: config.host,
        os,
        mode: config.mode,
        agentVersion: FLOTILLA_VERSION,
      },
      logger,
      backoff: { baseMs: Math.min(RECONNECT_BASE_MS, capMs), capMs },
    },
    facts: new FactsCollector({
      sources: nodeHostSources(runner, config.childEnv),
      os,
      disks: config.disks,
      currentSystemLink: config.currentSystemLink,
      bootedSystemLink: config.bootedSystemLink,
      profile: config.profile,
      clock: systemClock,
    }),
    store: new NixStore({
      runner,
      env: config.childEnv,
      stateDir: config.stateDir,
      host: { controllerUrl: config.controllerUrl, token: config.token },
    }),
    activator: new ChildProcessActivator({
      runner,
      env: config.childEnv,
      currentSystemLink: config.currentSystemLink,
      profile: config.profile,
    }),
    profile: config.profile,
    resultsDir: join(config.stateDir, 'results'),
    logger,
  });
}
