/**
 * The processes a demo starts (its controller and agents), recorded on disk so that a demo
 * that died without stopping them (SIGKILL, a crash) does not leave them running against
 * the state the next demo resumes. Each runs in its own process group (see ManagedProcess).
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { readJsonFile, writeFileAtomic } from '@flotilla/runtime';
import { processExists, type ManagedProcess } from '@flotilla/sandbox';

interface RecordedProcess {
  pid: number;
  label: string;
}

interface ProcessesFile {
  demoPid: number;
  processes: RecordedProcess[];
}

/** The command line of a process, or null where it cannot be read (no /proc, gone, not ours). */
export function commandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

/** True while the process exists and has not exited (a zombie has, though it keeps its pid). */
export function processRunning(pid: number): boolean {
  if (!processExists(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Thrown by {@link DemoProcesses.start} once the demo is stopping. */
export class DemoStopping extends Error {
  constructor() {
    super('the demo is stopping');
  }
}

/** The controller and agents of the running demo, stopped together. */
export class DemoProcesses {
  private readonly started: { label: string; process: ManagedProcess }[] = [];
  /** Starts under way: a stop waits for them, so nothing it has not seen keeps running. */
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly file: string) {}

  /** How many processes were started. */
  get count(): number {
    return this.started.length;
  }

  /**
   * Runs `launch` (which spawns one process) and keeps the process to stop later, its pid
   * recorded on disk. Refused once {@link stopAll} was called.
   */
  async start<T extends { process: ManagedProcess }>(
    label: string,
    launch: () => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new DemoStopping();
    const registered = launch().then(async (handle) => {
      this.started.push({ label, process: handle.process });
      await this.save();
      return handle;
    });
    this.pending.add(registered);
    try {
      const handle = await registered;
      if (this.closed) throw new DemoStopping();
      return handle;
    } finally {
      this.pending.delete(registered);
    }
  }

  /** Stops the agents, then the controller (so agents do not watch it go away first). */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
    const controller = this.started.filter((p) => p.label === 'controller');
    const others = this.started.filter((p) => p.label !== 'controller');
    await Promise.all(others.map((p) => p.process.stop()));
    await Promise.all(controller.map((p) => p.process.stop()));
    await rm(this.file, { force: true });
  }

  private async save(): Promise<void> {
    const record: ProcessesFile = {
      demoPid: process.pid,
      processes: this.started.flatMap(({ label, process }) =>
        process.pid === undefined ? [] : [{ pid: process.pid, label }],
      ),
    };
    await writeFileAtomic(this.file, `${JSON.stringify(record, null, 2)}\n`, 0o644);
  }
}

/**
 * Stops what an earlier demo on `demoDir` left running. A recorded pid only counts as
 * leftover when its command line names `demoDir` (the kernel reuses pids); where command
 * lines cannot be read, a recorded process that still runs is reported, not touched.
 */
export async function stopLeftovers(
  file: string,
  demoDir: string,
  say: (text: string) => void,
): Promise<void> {
  const record = (await readJsonFile(file)) as ProcessesFile | undefined;
  const recorded = Array.isArray(record?.processes) ? record.processes : [];
  const running = recorded.filter((p) => Number.isInteger(p.pid) && processRunning(p.pid));
  const unknown = running.filter((p) => commandLine(p.pid) === null);
  if (unknown.length > 0) {
    throw new Error(
      `the previous demo (pid ${record?.demoPid}) may have left these running: ` +
        `${unknown.map((p) => `${p.label} (pid ${p.pid})`).join(', ')}. ` +
        `Stop them if they are its controller and agents (kill PID), or delete ${file}; then run the demo again.`,
    );
  }
  const leftovers = running.filter((p) => commandLine(p.pid)?.includes(`${demoDir}/`) === true);
  if (leftovers.length > 0) {
    say(
      `the previous demo (pid ${record?.demoPid}) did not stop its processes; stopping ` +
        leftovers.map((p) => `${p.label} (pid ${p.pid})`).join(', '),
    );
    await stopGroups(leftovers.map((p) => p.pid));
  }
  await rm(file, { force: true });
}

/** SIGTERM to each process group, SIGKILL to what still runs after 10 s; waits until all are gone. */
async function stopGroups(pids: number[]): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(-pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  const allGone = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (pids.some(processRunning)) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return true;
  };
  signal('SIGTERM');
  if (await allGone(10_000)) return;
  signal('SIGKILL');
  if (!(await allGone(5_000))) {
    const still = pids.filter(processRunning).join(', ');
    throw new Error(`processes of the previous demo did not stop: pid ${still}`);
  }
}
