import type { DeployAction } from '@flotilla/protocol';
import { checkRunnable } from '../closure-trust.js';
import type { JournalPhase } from '../journal.js';
import type { DeploymentRun, FlowDeps } from '../deployment-run.js';
import { failure, finish, gcRoots } from './finish.js';

/**
 * Phase `fetching`: notices a deployment of the running system (nothing to do), pins the
 * new and the previous system against garbage collection until the deployment ends, and
 * copies the new one from the cache first when it is missing.
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
    return run.enter('committing', {}, { durable: false });
  }
  const roots = gcRoots(deps);
  const pins = previousSystem === null ? [storePath] : [storePath, previousSystem];
  const ready = await readyWithoutNix(deps, storePath, previousSystem);
  if (ready !== null) {
    // Both systems are kept already (generations of the profile, or the release a plan
    // prepared, which its root keeps) and the new one may run here: nothing to wait for.
    // Pinning them for the deployment, in case those roots go meanwhile, runs beside the
    // activation; the deployment's end waits for it.
    run.say(ready);
    run.soon(() =>
      deps.store.pin(pins, roots.pending).then(
        (pinned) => {
          if (!pinned.ok)
            run.say(`warning: cannot pin against garbage collection: ${pinned.reason}`);
        },
        (error: unknown) =>
          run.say(`warning: cannot pin against garbage collection: ${String(error)}`),
      ),
    );
    return run.enter(nextPhase(action), {}, { durable: false });
  }
  // Otherwise in one `nix-store` for the usual case: both systems are in the store, and
  // pinning them (which never fetches) proves it. The signature check runs meanwhile; its
  // answer counts only when the path was in the store, else it is asked again after the
  // fetch.
  const [pinned, trustedBefore] = await Promise.all([
    deps.store.pin(pins, roots.pending),
    checkRunnable(deps.store, deps.profile, storePath),
  ]);
  if (pinned.ok) {
    run.say(`${storePath} is already in the store`);
  } else if (await deps.store.isValid(storePath)) {
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
  const trusted = pinned.ok
    ? trustedBefore
    : await checkRunnable(deps.store, deps.profile, storePath);
  if (!trusted.ok) {
    return finish(run, deps, failure(trusted.code ?? 'untrusted_closure', trusted.reason));
  }
  run.say(trusted.why);
  if (!pinned.ok) await pinEach(run, deps, pins);
  await run.enter(nextPhase(action), {}, { durable: false });
}

/**
 * The phase after fetching. Its step writes the journal durably before it acts (the
 * activation's record, or `profileChanged`), so entering it need not be durable itself.
 */
function nextPhase(action: DeployAction): JournalPhase {
  return action === 'boot' ? 'setting_profile' : 'activating';
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
  run.afterResult(set.root);
  await run.enter('activating');
}

/**
 * Why the new system may run and both systems stay in the store, when that is known
 * without asking Nix (a generation of the profile, or a release a plan prepared); null
 * otherwise.
 */
async function readyWithoutNix(
  deps: FlowDeps,
  storePath: string,
  previousSystem: string | null,
): Promise<string | null> {
  const kept = async (path: string) =>
    (await deps.store.generationOf(deps.profile, path)) !== null ||
    (await deps.store.prepared(path));
  if (previousSystem !== null && !(await kept(previousSystem))) return null;
  const generation = await deps.store.generationOf(deps.profile, storePath);
  if (generation !== null) return `${storePath} is generation ${generation} of ${deps.profile}`;
  if (await deps.store.prepared(storePath)) {
    return `${storePath} was prepared for this deployment: in the store, kept, and signed by a trusted key`;
  }
  return null;
}

/**
 * Pins each system by itself, after the pin of both at once failed (the new one was
 * missing, or a root could not be made). A missing root only risks a garbage collection at
 * the wrong moment; it is not fatal.
 */
async function pinEach(run: DeploymentRun, deps: FlowDeps, pins: string[]): Promise<void> {
  const roots = gcRoots(deps);
  // Two roots, two `nix-store` processes: started together, the deployment waits for one.
  const outcomes = await Promise.all(
    pins.map((path, index) => deps.store.pin([path], index === 0 ? roots.pending : roots.previous)),
  );
  outcomes.forEach((pinned, index) => {
    if (!pinned.ok) {
      run.say(
        `warning: cannot pin ${pins[index] ?? ''} against garbage collection: ${pinned.reason}`,
      );
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
