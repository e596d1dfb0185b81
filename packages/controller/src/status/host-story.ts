import type {
  DeploymentStatus,
  HostMode,
  HostStoryState,
  HostSync,
  ReleaseStatus,
} from '@flotilla/protocol';

/** A release as the story names it. */
interface ReleaseRef {
  id: string;
  sha: string;
  message: string;
  storePath: string;
  status: ReleaseStatus;
}

/** What the story is told from (read by the status service). */
export interface StoryFacts {
  host: string;
  mode: HostMode;
  online: boolean;
  running: string | null;
  runningRelease: ReleaseRef | null;
  /** The succeeded deployment whose system runs now. */
  verifiedBy: { id: string; at: string | null } | null;
  /** A deployment that has not ended; the one in flight when there is one. */
  pending: {
    id: string;
    status: DeploymentStatus;
    holdReason: string | null;
    approvedBy: string | null;
    kind: 'deploy' | 'rollback';
  } | null;
  pendingRelease: ReleaseRef | null;
  lastDeployment: {
    id: string;
    status: DeploymentStatus;
    kind: 'deploy' | 'rollback';
    storePath: string;
    error: string | null;
  } | null;
  /** The newest release built for the host. */
  built: ReleaseRef | null;
  pinned: { reason: string | null } | null;
  sync: HostSync;
  declaredError: string | null;
}

export interface Story {
  state: HostStoryState;
  summary: string;
  details: string[];
}

/**
 * Tells where a host stands as one story: the first state that applies (monitor, unknown,
 * deploying, drifted, awaiting approval, held, pinned, failed, not deployed, behind, up to
 * date) gives the summary, and every detail line agrees with it. Pure, so every case is
 * tested on its own.
 */
export function describeStory(f: StoryFacts): Story {
  const details: string[] = [];
  const runs = describeRunning(f);
  const verification = f.verifiedBy
    ? f.online
      ? `verified by deployment ${f.verifiedBy.id}`
      : `deployed by ${f.verifiedBy.id}; not verified now: the host is offline`
    : null;
  if (f.pinned)
    details.push(`pinned: ${f.pinned.reason ?? 'no reason given'} (flotilla unpin ${f.host})`);
  if (f.declaredError)
    details.push(`the branch head does not evaluate for ${f.host}: ${firstLine(f.declaredError)}`);
  if (f.mode === 'monitor') {
    return {
      state: 'monitor',
      summary: `monitor-only: Flotilla shows ${f.host} and never deploys to it; ${monitorSync(f)}`,
      details,
    };
  }
  if (f.running === null) {
    return {
      state: 'unknown',
      summary: `the agent of ${f.host} has not reported what it runs${f.online ? '' : ' (offline)'}`,
      details,
    };
  }
  const pending = f.pending;
  if (pending && !['awaiting_approval', 'approved'].includes(pending.status)) {
    details.push(runs);
    return {
      state: 'deploying',
      summary: `${pending.kind === 'rollback' ? 'rollback' : 'deployment'} ${pending.id} is ${pending.status}${f.pendingRelease ? ` (release ${f.pendingRelease.id}, ${short(f.pendingRelease.sha)})` : ''}`,
      details,
    };
  }
  if (f.sync.state === 'drifted') {
    return {
      state: 'drifted',
      summary: `drifted: ${f.host} runs ${shortPath(f.running)}, which no release or deployment explains`,
      details: [...details, ...pendingLines(f)],
    };
  }
  if (pending?.status === 'awaiting_approval') {
    return {
      state: 'awaiting_approval',
      summary: `${f.pendingRelease ? `release ${f.pendingRelease.id} (${short(f.pendingRelease.sha)} ${f.pendingRelease.message})` : `deployment ${pending.id}`} waits for approval; ${runs}`,
      details: [...details, ...(verification ? [verification] : [])],
    };
  }
  if (pending?.status === 'approved') {
    return {
      state: 'held',
      summary: `deployment ${pending.id} is approved${pending.approvedBy ? ` by ${pending.approvedBy}` : ''} and waits: ${pending.holdReason ?? 'for the rollout'}`,
      details: [...details, runs],
    };
  }
  const newer = f.built && f.built.storePath !== f.running ? f.built : null;
  if (f.pinned && f.sync.state !== 'up_to_date') {
    return {
      state: 'pinned',
      summary: `pinned: ${runs}${verification ? `, ${verification}` : ''}`,
      details: [
        ...details,
        ...(newer
          ? [`newest release ${newer.id} (${short(newer.sha)}) stays undeployed while pinned`]
          : []),
      ],
    };
  }
  const last = f.lastDeployment;
  if (
    last &&
    (last.status === 'failed' || last.status === 'rolled_back') &&
    f.sync.state !== 'up_to_date'
  ) {
    return {
      state: 'failed',
      summary: `the last ${last.kind === 'rollback' ? 'rollback' : 'deployment'} ${last.id} ${last.status === 'failed' ? 'failed' : 'rolled back'}${last.error ? `: ${firstLine(last.error)}` : ''}; ${runs}`,
      details,
    };
  }
  if (!f.runningRelease && !f.verifiedBy) {
    return {
      state: 'not_deployed',
      summary: `${f.host} runs ${shortPath(f.running)}, not deployed by Flotilla yet${newer ? `; release ${newer.id} is ${newer.status}` : ''}`,
      details,
    };
  }
  if (f.sync.state === 'behind') {
    const by =
      f.sync.behindBy === null
        ? 'behind'
        : `behind by ${f.sync.behindBy} commit${f.sync.behindBy === 1 ? '' : 's'}`;
    return {
      state: 'behind',
      summary: `${by}: ${runs}${newer ? `; newest release ${newer.id} (${short(newer.sha)}) is ${newer.status}` : ''}`,
      details: [...details, ...(verification ? [verification] : [])],
    };
  }
  return {
    state: 'up_to_date',
    summary: `up to date: ${runs}${verification ? `, ${verification}` : ''}`,
    details,
  };
}

/** Where a monitor host stands against its declared output, in a few words. */
function monitorSync(f: StoryFacts): string {
  const sync = f.sync;
  const what = sync.output ? `${sync.output.kind} output ${sync.output.attribute}` : 'its output';
  switch (sync.state) {
    case 'up_to_date':
      return `up to date: runs ${what} of the branch head${sync.headSha ? ` (${short(sync.headSha)})` : ''}`;
    case 'behind':
      return `behind${sync.behindBy === null ? '' : ` by ${sync.behindBy} commit${sync.behindBy === 1 ? '' : 's'}`}: runs ${what} of ${sync.runningSha ? short(sync.runningSha) : 'an older revision'}`;
    case 'drifted':
      return `drifted: runs ${sync.runningPath ? shortPath(sync.runningPath) : 'something'}, which no revision of the branch declares as ${what}`;
    case 'unknown':
      return sync.declaredPath === null || sync.declaredPath === undefined
        ? `drift unknown: ${what} does not evaluate at the branch head`
        : `drift unknown: the agent has not reported what it runs`;
  }
}

function describeRunning(f: StoryFacts): string {
  if (f.running === null) return 'runs nothing reported';
  if (f.runningRelease)
    return `runs release ${f.runningRelease.id} (${short(f.runningRelease.sha)} ${f.runningRelease.message})`;
  return `runs ${shortPath(f.running)}`;
}

function pendingLines(f: StoryFacts): string[] {
  if (!f.pending) return [];
  return [
    `deployment ${f.pending.id} is ${f.pending.status}${f.pending.holdReason ? `: ${f.pending.holdReason}` : ''}`,
  ];
}

function short(sha: string): string {
  return sha.slice(0, 8);
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '') ?? text;
}

function shortPath(path: string): string {
  const match = /^\/nix\/store\/([0-9a-z]{32})-(.+)$/.exec(path);
  return match ? `${(match[1] ?? '').slice(0, 8)}…-${match[2] ?? ''}` : path;
}
