/**
 * Where the demo keeps its state between runs, and whether a saved demo can be resumed.
 * Everything lives under one directory (`.demo`); `demo-state.json` says which layout wrote
 * it and whether its first run finished setting up.
 */
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from '@flotilla/runtime';
import { SANDBOX_ADMIN_FILE, sandboxHostPaths } from '@flotilla/sandbox';

/**
 * The layout of a saved demo. Bump it whenever a demo saved by the previous code can no
 * longer be resumed by the new code; such a demo is then refused, never silently deleted.
 * 2: hosts keep an enrolled key instead of a static agent token.
 */
export const DEMO_LAYOUT = 2;

/** A host of the demo fleet, as far as its saved state is concerned. */
export interface DemoHost {
  name: string;
  mode: 'managed' | 'monitor';
}

/** What `demo-state.json` holds. */
export interface DemoStateFile {
  layout: number;
  /** `setting-up` until the first run registered every host and each agent enrolled. */
  status: 'setting-up' | 'ready';
  hosts: string[];
  createdAt: string;
}

/** Every path of a saved demo. */
export interface DemoPaths {
  dir: string;
  /** Holds the pid of the demo that runs on this state (see `PidLock`). */
  lockFile: string;
  stateFile: string;
  /** The controller and agents the running demo started, to stop them if it died. */
  processesFile: string;
  controllerDir: string;
  controllerConfig: string;
  webhookSecret: string;
  /** `github/origin.git` stands in for GitHub. */
  githubDir: string;
  bare: string;
  /** The clone the user edits and pushes from. */
  flake: string;
  /** The flake of what the hosts ran before Flotilla (version 0). */
  initialSystems: string;
  hostsDir: string;
}

export function demoPaths(dir: string): DemoPaths {
  return {
    dir,
    lockFile: join(dir, 'demo.lock'),
    stateFile: join(dir, 'demo-state.json'),
    processesFile: join(dir, 'processes.json'),
    controllerDir: join(dir, 'controller'),
    controllerConfig: join(dir, 'controller.json'),
    webhookSecret: join(dir, 'controller', 'webhook-secret'),
    githubDir: join(dir, 'github'),
    bare: join(dir, 'github', 'origin.git'),
    flake: join(dir, 'flake'),
    initialSystems: join(dir, 'initial-systems'),
    hostsDir: join(dir, 'hosts'),
  };
}

/** The sandbox directory of one demo host. */
export function demoHostRoot(paths: DemoPaths, host: string): string {
  return join(paths.hostsDir, host);
}

export type SavedDemo =
  | { kind: 'none' }
  | { kind: 'resumable'; state: DemoStateFile }
  | { kind: 'unusable'; reason: string };

/** Files that belong to a running demo rather than to its saved state. */
function runFiles(paths: DemoPaths): Set<string> {
  return new Set(
    [paths.lockFile, `${paths.lockFile}.takeover`, paths.processesFile].map((f) =>
      f.slice(paths.dir.length + 1),
    ),
  );
}

/** Reads `dir` and says whether there is nothing, a demo to resume, or why it cannot be. */
export async function inspectSavedDemo(
  paths: DemoPaths,
  fleet: readonly DemoHost[],
): Promise<SavedDemo> {
  const ignored = runFiles(paths);
  const entries = (await readdir(paths.dir).catch(() => [])).filter(
    (name) => !ignored.has(name) && !(name.startsWith('.demo.lock.') && name.endsWith('.tmp')),
  );
  if (entries.length === 0) return { kind: 'none' };
  if (!entries.includes('demo-state.json')) {
    return {
      kind: 'unusable',
      reason:
        `${paths.dir} was made by an older version of the demo, which started over on every ` +
        'run; its layout cannot be resumed',
    };
  }
  const state = parseState(await readJsonFile(paths.stateFile));
  if (typeof state === 'string') {
    return { kind: 'unusable', reason: `${paths.stateFile} ${state}` };
  }
  if (state.layout !== DEMO_LAYOUT) {
    return {
      kind: 'unusable',
      reason:
        `${paths.dir} was saved with demo state layout ${state.layout}; this version of the ` +
        `demo uses layout ${DEMO_LAYOUT}`,
    };
  }
  if (state.status !== 'ready') {
    return {
      kind: 'unusable',
      reason: `the demo's first run stopped before its setup finished, so ${paths.dir} is incomplete`,
    };
  }
  const expected = fleet.map((h) => h.name);
  if (state.hosts.join(' ') !== expected.join(' ')) {
    return {
      kind: 'unusable',
      reason: `the saved demo has hosts ${state.hosts.join(' ')}; this demo runs ${expected.join(' ')}`,
    };
  }
  const missing = await missingPaths(paths, fleet);
  if (missing.length > 0) {
    return {
      kind: 'unusable',
      reason: `the saved demo is broken: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`,
    };
  }
  return { kind: 'resumable', state };
}

function parseState(data: unknown): DemoStateFile | string {
  if (data === undefined) return 'cannot be read or is not JSON';
  if (typeof data !== 'object' || data === null) return 'is not a demo state file';
  const { layout, status, hosts, createdAt } = data as Record<string, unknown>;
  if (
    typeof layout !== 'number' ||
    (status !== 'setting-up' && status !== 'ready') ||
    !Array.isArray(hosts) ||
    !hosts.every((h) => typeof h === 'string') ||
    typeof createdAt !== 'string'
  ) {
    return 'is not a demo state file (layout, status, hosts, createdAt)';
  }
  return { layout, status, hosts, createdAt };
}

/** What a resumed demo cannot do without, relative to the demo directory. */
async function missingPaths(paths: DemoPaths, fleet: readonly DemoHost[]): Promise<string[]> {
  const required = [
    join(paths.controllerDir, 'flotilla.db'),
    join(paths.controllerDir, SANDBOX_ADMIN_FILE),
    paths.webhookSecret,
    join(paths.bare, 'HEAD'),
    join(paths.flake, '.git'),
  ];
  for (const host of fleet) {
    const sandbox = sandboxHostPaths(demoHostRoot(paths, host.name));
    // The agent's own key and its enrollment: it proves the key, no token is kept.
    required.push(join(sandbox.identityDir, 'agent-key.pem'));
    required.push(join(sandbox.identityDir, 'enrollment.json'));
    // What the host ran before Flotilla: its first generation, and its current system.
    if (host.mode === 'managed') required.push(sandbox.profile, sandbox.currentSystemLink);
  }
  const present = await Promise.all(
    required.map((path) =>
      lstat(path).then(
        () => true,
        () => false,
      ),
    ),
  );
  return required.filter((_, i) => !present[i]).map((path) => path.slice(paths.dir.length + 1));
}

/** Records the state's layout and whether setup finished. */
export async function writeDemoState(
  paths: DemoPaths,
  status: DemoStateFile['status'],
  fleet: readonly DemoHost[],
  createdAt: string,
): Promise<void> {
  const state: DemoStateFile = {
    layout: DEMO_LAYOUT,
    status,
    hosts: fleet.map((h) => h.name),
    createdAt,
  };
  await writeFileAtomic(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`, 0o644);
}

/** Deletes the saved demo, keeping only the lock of the demo that asked for it. */
export async function deleteSavedDemo(paths: DemoPaths): Promise<void> {
  const keep = new Set([paths.lockFile, `${paths.lockFile}.takeover`]);
  const entries = await readdir(paths.dir).catch(() => []);
  await Promise.all(
    entries
      .map((name) => join(paths.dir, name))
      .filter((path) => !keep.has(path))
      .map((path) => rm(path, { recursive: true, force: true })),
  );
}

/**
 * Hands a host its one-time enrollment token, in its sandbox, readable by its owner only
 * (as an operator would put it on a real host). Its agent enrolls with it on first start
 * and keeps its own key from then on; the used token is worthless.
 */
export async function saveEnrollmentToken(
  paths: DemoPaths,
  host: string,
  token: string,
): Promise<void> {
  const { root, enrollmentTokenFile } = sandboxHostPaths(demoHostRoot(paths, host));
  await mkdir(root, { recursive: true });
  await writeFileAtomic(enrollmentTokenFile, `${token}\n`, 0o600);
}
