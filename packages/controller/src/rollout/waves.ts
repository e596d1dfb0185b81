import type { ControllerConfig, GraduationCriteria, Wave } from '../config.js';
import type { DeployWindow } from './deploy-window.js';

/** The parts of the config the rollout rules read. */
export type RolloutConfig = Pick<ControllerConfig, 'hosts' | 'rollout'>;

/** The wave a host belongs to (its position and name), or null outside every wave. */
export function waveOf(config: RolloutConfig, host: string): { index: number; wave: Wave } | null {
  const index = config.rollout.waves.findIndex((w) => w.hosts.includes(host));
  const wave = config.rollout.waves[index];
  return wave ? { index, wave } : null;
}

/** The waves before the host's own (all of them roll out first). */
export function earlierWaves(config: RolloutConfig, host: string): Wave[] {
  return config.rollout.waves.slice(0, waveOf(config, host)?.index ?? 0);
}

/** The host's deploy windows: its own and its wave's (any of them open is enough). */
export function windowsFor(config: RolloutConfig, host: string): DeployWindow[] {
  return [...(config.hosts[host]?.windows ?? []), ...(waveOf(config, host)?.wave.windows ?? [])];
}

/** What the host must show before it may be promoted to `auto`: its own, else its wave's. */
export function criteriaFor(config: RolloutConfig, host: string): GraduationCriteria | null {
  return config.hosts[host]?.graduation ?? waveOf(config, host)?.wave.graduation ?? null;
}
