import { checkRunnable } from '../closure-trust.js';
import type { DeploymentRun, FlowDeps } from '../deployment-run.js';
import { failure, finish, gcRoots } from './finish.js';

/**
 * Phase `fetching`: notices a deployment of the running system (nothing to do), copies the
 * closure from the cache when it is missing, and pins the new and the previous system
 * against garbage collection until the deployment ends.
 */
export async function fetchStep(run: DeploymentRun, deps: FlowDeps): Promise<void> {
  const { storePath, action, cache, previousSystem } = run.journal;
  if ((action === 'switch' || action === 'test') && previousSystem === storePath) {
    if (action === 'test' || (await deps.host.bootDefault()) === storePath) {
      run.say(`${storePath} is already the running system; nothing to do`);
      return finish(run, deps, { outcome: 'succeeded' });
    }
    // Running it is proven; only the boot entry is missing, which needs no confirmation.
    run.say(`${storePath} is already the running system; making it the boot default`);
    return run.enter('committing');
  }
  if (await deps.store.isValid(storePath)) {
    run.say(`${storePath} is already in the store`);
  } else {
    if (cache === null) {
      const message = `${storePath} is not in the store and no binary cache was given`;
      return finish(run, deps, failure('fetch_failed', message));
    }
    run.say(`fetching ${storePath} from ${safeUrl(cache.url)}`);
    const fetched = await deps.store.fetch(cache, storePath, run.output);
    if (!fetched.ok) {
      return finish(run, deps, failure(fetched.code ?? 'fetch_failed', fetched.reason));
    }
    run.say(`fetched ${storePath}`);
  }
  const trusted = await checkRunnable(deps.store, deps.profile, storePath);
  if (!trusted.ok) {
    return finish(run, deps, failure(trusted.code ?? 'untrusted_closure', trusted.reason));
  }
  run.say(trusted.why);
  await pin(run, deps);
  await run.enter(action === 'boot' ? 'setting_profile' : 'activating');
}

/**
 * Phase `setting_profile` (action `boot`): points the profile at the new system. The
 * journal says so before `nix-env` runs, since after a crash there is no telling whether
 * it did.
 */
export async function setProfileStep(run: DeploymentRun, deps: FlowDeps): Promise<void> {
  const { storePath } = run.journal;
  await run.update({ profileChanged: true });
  run.say(`setting profile ${deps.profile} to ${storePath}`);
  const set = await deps.store.setProfile(deps.profile, storePath, run.output);
  // `nix-env --set` swaps one symlink: when it fails, the profile is as it was.
  if (!set.ok) return finish(run, deps, failure('profile_failed', set.reason));
  await run.enter('activating');
}

/** A missing root only risks a garbage collection at the wrong moment; it is not fatal. */
async function pin(run: DeploymentRun, deps: FlowDeps): Promise<void> {
  const roots = gcRoots(deps);
  const { storePath, previousSystem } = run.journal;
  const pins = [[storePath, roots.pending] as const];
  if (previousSystem !== null) pins.push([previousSystem, roots.previous]);
  // Two roots, two `nix-store` processes: started together, the deployment waits for one.
  const outcomes = await Promise.all(pins.map(([path, root]) => deps.store.pin(path, root)));
  outcomes.forEach((pinned, index) => {
    if (!pinned.ok) {
      const path = pins[index]?.[0] ?? '';
      run.say(`warning: cannot pin ${path} against garbage collection: ${pinned.reason}`);
    }
  });
}

/** The cache URL without credentials, for log lines. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
