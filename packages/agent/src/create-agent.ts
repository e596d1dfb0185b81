import { join } from 'node:path';
import { FLOTILLA_VERSION, PROTOCOL_VERSION, type AgentFeature } from '@flotilla/protocol';
import { Agent } from './agent.js';
import { systemClock } from '@flotilla/runtime';
import type { AgentConfig } from './config.js';
import type { AgentKey } from './identity/agent-key.js';
import { controllerTlsOptions } from './identity/controller-tls.js';
import { DetachedActivator, type ActivationMode } from './deploy/detached-activator.js';
import { HostHealthChecker } from './deploy/health-checks.js';
import { NixStore } from './deploy/nix-store.js';
import { commandsIn, DarwinProbe, MACOS_COMMANDS } from './facts/darwin-probe.js';
import { FactsCollector } from './facts/facts-collector.js';
import { nodeHostSources } from './facts/host-sources.js';
import { NixPlanTools } from './plan/plan-tools.js';
import type { Logger } from '@flotilla/runtime';
import { ChildProcessRunner } from '@flotilla/runtime';
import { systemdRunning } from './systemd.js';

/** Delay before the first reconnect attempt at most (ms); later ones double up to the cap. */
const RECONNECT_BASE_MS = 1000;

/** What the agent finds out about the host it starts on; injectable for tests. */
export interface HostEnvironment {
  /** Whether systemd runs the host (`/run/systemd/system` exists). */
  systemd: boolean;
}

/** The activation mode for a setting: `auto` means systemd-run exactly where systemd runs. */
export function activationMode(
  setting: AgentConfig['activation'],
  systemd: boolean,
): ActivationMode {
  if (setting === 'auto') return systemd ? 'systemd-run' : 'detached';
  return setting;
}

/**
 * Builds an agent on the real host, Nix and network from a parsed configuration and its
 * enrolled key (see `ensureEnrolled`).
 */
export function createAgent(
  config: AgentConfig,
  key: AgentKey,
  logger: Logger,
  environment: HostEnvironment = { systemd: systemdRunning() },
): Agent {
  const runner = new ChildProcessRunner();
  const os = config.os;
  const sources = nodeHostSources(runner, config.childEnv);
  const capMs = config.reconnectMaxSeconds * 1000;
  const mode = activationMode(config.activation, environment.systemd);
  logger.info('activation mode', { activation: mode, systemd: environment.systemd });
  // The store asks the agent's own connection for cache credentials, once it runs.
  const store: NixStore = new NixStore({
    runner,
    env: config.childEnv,
    stateDir: config.stateDir,
    controllerUrl: config.controllerUrl,
    trustedPublicKeys: config.trustedPublicKeys,
    caFile: config.tls.caFile,
    credential: () => agent.connection.requestCacheCredential(),
  });
  const agent: Agent = new Agent({
    mode: config.mode,
    connection: {
      url: config.controllerUrl,
      tls: controllerTlsOptions(config.tls),
      identity: { keyId: key.fingerprint, sign: (payload) => key.sign(payload) },
      hello: {
        protocolVersion: PROTOCOL_VERSION,
        host: config.host,
        os,
        mode: config.mode,
        agentVersion: FLOTILLA_VERSION,
        // A monitor host never deploys, so it prepares nothing either.
        features: config.mode === 'managed' ? (['plan'] satisfies AgentFeature[]) : [],
      },
      logger,
      backoff: { baseMs: Math.min(RECONNECT_BASE_MS, capMs), capMs },
    },
    facts: new FactsCollector({
      sources,
      os,
      ...(os === 'darwin'
        ? {
            darwin: new DarwinProbe({
              sources,
              commands:
                config.darwinCommandsDir === null
                  ? MACOS_COMMANDS
                  : commandsIn(config.darwinCommandsDir),
              homeManagerProfiles: config.homeManagerProfiles,
              clock: systemClock,
            }),
          }
        : {}),
      disks: config.disks,
      currentSystemLink: config.currentSystemLink,
      bootedSystemLink: config.bootedSystemLink,
      profile: config.profile,
      bootIdFile: config.bootIdFile,
      hostnameFile: config.hostnameFile,
      machineIdFile: config.machineIdFile,
      // No systemd on a Mac (nor for an agent reporting as one).
      systemd: environment.systemd && os === 'linux',
      clock: systemClock,
    }),
    store,
    activator: new DetachedActivator({
      mode,
      dir: join(config.stateDir, 'activations'),
      env: config.childEnv,
      currentSystemLink: config.currentSystemLink,
      profile: config.profile,
      runner,
      clock: systemClock,
    }),
    health: new HostHealthChecker({ runner, env: config.childEnv, systemd: environment.systemd }),
    healthChecks: config.healthChecks,
    plans: {
      enabled: config.prefetch,
      tools: new NixPlanTools({
        runner,
        env: config.childEnv,
        currentSystemLink: config.currentSystemLink,
        profile: config.profile,
      }),
    },
    profile: config.profile,
    stateDir: config.stateDir,
    reboot: {
      command: config.rebootCommand ?? (environment.systemd ? ['systemctl', 'reboot'] : ['reboot']),
      runner,
      env: config.childEnv,
    },
    logger,
  });
  return agent;
}
