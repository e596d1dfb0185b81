import { isStorePath, type Generation } from '@flotilla/protocol';
import type { DeploymentRow } from '../storage/deployment.repository.js';

/** What a rollback goes to, and why that system. */
export interface RollbackTarget {
  storePath: string;
  /** The host's generation holding it, when the agent reported one. */
  generation: number | null;
  why: string;
}

export interface RollbackHistory {
  /** The system the host runs now (agent's facts). */
  running: string | null;
  /** The host's generations from its facts. */
  generations: readonly Generation[];
  /** Succeeded deployments of the host, newest first: systems verified to have run. */
  verified: readonly Pick<DeploymentRow, 'id' | 'store_path' | 'action' | 'finished_at'>[];
  /**
   * Systems known to be bad: those a manual rollback moved away from, and releases that
   * rolled back by themselves (quarantined). A rollback never goes to one of them.
   */
  bad: ReadonlySet<string>;
}

/**
 * The system a rollback goes to: the one last verified on the host before the current one
 * that is not known to be bad. Without such a deployment history (a host deployed outside
 * Flotilla), the newest earlier generation that is not known to be bad. Pure, so the rule
 * is tested on its own.
 */
export function chooseRollbackTarget(history: RollbackHistory): RollbackTarget | null {
  const { running, verified, bad } = history;
  // Facts are checked when they arrive; facts stored by an older controller are not.
  const generations = history.generations.filter((g) => isStorePath(g.path));
  const generationOf = (path: string) =>
    [...generations].sort((a, b) => b.number - a.number).find((g) => g.path === path)?.number ??
    null;
  for (const deployment of verified) {
    if (deployment.action !== 'switch' && deployment.action !== 'test') continue;
    if (deployment.store_path === running || bad.has(deployment.store_path)) continue;
    return {
      storePath: deployment.store_path,
      generation: generationOf(deployment.store_path),
      why: `the system last verified before the current one (deployment ${deployment.id})`,
    };
  }
  const current = generations.find((g) => g.current);
  const earlier = generations
    .filter((g) => current === undefined || g.number < current.number)
    .filter((g) => g.path !== running && !bad.has(g.path))
    .sort((a, b) => b.number - a.number)[0];
  if (!earlier) return null;
  return {
    storePath: earlier.path,
    generation: earlier.number,
    why: 'the newest earlier generation not known to be bad',
  };
}
