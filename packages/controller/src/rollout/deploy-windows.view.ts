import type { DeployWindowList, DeployWindowsEntry } from '@flotilla/protocol';
import {
  describeWindows,
  isWithinWindows,
  nextWindowStart,
  type DeployWindow,
} from './deploy-window.js';
import type { RolloutConfig } from './waves.js';

/**
 * The deploy windows the config file declares, host by host (sorted by name), then wave by
 * wave (in their order), each with whether it is open at `at` and when it opens next. A
 * host deploys when its own or its wave's windows are open; hosts and waves without windows
 * are left out (they deploy any time).
 */
export function deployWindowList(config: RolloutConfig, at: Date): DeployWindowList {
  const entry = (
    scope: DeployWindowsEntry['scope'],
    name: string,
    windows: readonly DeployWindow[],
  ): DeployWindowsEntry => ({
    scope,
    name,
    windows: windows.map((w) => ({ ...w, ...(w.days ? { days: [...w.days] } : {}) })),
    description: describeWindows(windows),
    open: isWithinWindows(windows, at),
    nextOpen: nextWindowStart(windows, at)?.toISOString() ?? null,
  });
  const hosts = Object.entries(config.hosts)
    .filter(([, settings]) => settings.windows.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, settings]) => entry('host', name, settings.windows));
  const waves = config.rollout.waves
    .filter((wave) => wave.windows.length > 0)
    .map((wave) => entry('wave', wave.name, wave.windows));
  return { windows: [...hosts, ...waves] };
}
