import type {
  DeployConfirmRequest,
  DeployLog,
  DeployProgress,
  DeployResult,
  LogStream,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { Logger } from '@flotilla/runtime';
import type { Activator } from './activator.js';
import type { ConfirmationGate } from './confirmation-gate.js';
import type { HealthChecker } from './health-checks.js';
import type { DeploymentJournal, JournalPhase, JournalStore } from './journal.js';
import { DeployLogBatcher } from './log-batcher.js';
import type { SystemStore } from './nix-store.js';
import type { ProfileLock } from './profile-switch.js';

/** Where a deployment's messages go. Results must survive a lost connection; the rest may not. */
export interface DeploymentReporter {
  send(message: DeployProgress | DeployLog): void;
  deliverResult(result: DeployResult): Promise<void>;
  /** Sends now when connected, else drops it: a confirm request is repeated after reconnects. */
  sendNow(message: DeployConfirmRequest): boolean;
  /** A result for this deployment is stored and not yet acknowledged. */
  hasResult(deploymentId: string): boolean;
}

/** What the host looks like now; read fresh every time. */
export interface HostState {
  /** Where the current-system link points. */
  currentSystem(): Promise<string | null>;
  /** Where the system profile points (the system the next boot starts). */
  bootDefault(): Promise<string | null>;
  /** Failed systemd units; null where there is no systemd. */
  failedUnits(): Promise<string[] | null>;
  /** The booted kernel, initrd or modules differ from the boot default's. */
  rebootRequired(): Promise<boolean>;
}

/** The outside world a deployment's steps act on. */
export interface FlowDeps {
  profile: string;
  /** Where the closures of a pending deployment are pinned against garbage collection. */
  gcRootsDir: string;
  store: SystemStore;
  activator: Activator;
  host: HostState;
  health: HealthChecker;
  gate: ConfirmationGate;
  clock: Clock;
  /** Fires when the agent stops; the steps leave the journal as it is and return. */
  signal: AbortSignal;
}

export interface DeploymentRunOptions {
  journals: JournalStore;
  reporter: DeploymentReporter;
  clock: Clock;
  logger: Logger;
}

/**
 * One deployment as the steps see it: its journal, saved at every change, and the ways it
 * reports (narrative lines, command output, phase changes, the result).
 */
export class DeploymentRun {
  readonly logger: Logger;
  /** The result is on its way: the controller may send the next deployment any moment. */
  delivered = false;
  private readonly batcher: DeployLogBatcher;
  private readonly background: Promise<void>[] = [];
  private readonly deferred: (() => Promise<void>)[] = [];
  private readonly atEnd: (() => Promise<void>)[] = [];
  private profileLock: Promise<ProfileLock | null> | null = null;

  constructor(
    public journal: DeploymentJournal,
    private readonly options: DeploymentRunOptions,
  ) {
    this.logger = options.logger.child({ deploymentId: journal.deploymentId });
    this.batcher = new DeployLogBatcher({
      deploymentId: journal.deploymentId,
      send: (message) => options.reporter.send(message),
      clock: options.clock,
    });
  }

  get id(): string {
    return this.journal.deploymentId;
  }

  /**
   * Changes the journal and writes it to disk before anything acts on the change, durably
   * unless told that losing it to a power cut only repeats work.
   */
  async update(patch: Partial<DeploymentJournal>, { durable = true } = {}): Promise<void> {
    const now = this.options.clock.now().getTime();
    this.journal = { ...this.journal, ...patch, updatedAt: now };
    await this.options.journals.save(this.journal, { durable });
  }

  /**
   * Moves to `phase` (saved first), then tells the controller. Not durable where the
   * phase's step begins with a durable write of its own before it acts: that write carries
   * the phase too, and losing both to a power cut only repeats the step before.
   */
  async enter(
    phase: JournalPhase,
    patch: Partial<DeploymentJournal> = {},
    { durable = true } = {},
  ): Promise<void> {
    const now = this.options.clock.now().getTime();
    await this.update(
      {
        ...patch,
        phase,
        phaseTimes: { ...this.journal.phaseTimes, [phase]: now },
      },
      { durable },
    );
    this.announce();
  }

  /** Sends the current phase (again, e.g. after the agent restarted). */
  announce(): void {
    const { phase } = this.journal;
    if (phase === 'finished') return;
    this.batcher.flush();
    this.options.reporter.send({ type: 'deploy.progress', deploymentId: this.id, phase });
  }

  /** A narrative line from the agent itself, logged locally and sent with the output. */
  say(line: string): void {
    this.logger.info(line);
    this.batcher.add('agent', line);
  }

  /** A line printed by a command the deployment runs. */
  readonly output = (stream: LogStream, line: string): void => {
    this.batcher.add(stream, line);
  };

  /** Work that runs beside the next steps (it must not reject); {@link settled} waits for it. */
  meanwhile(work: Promise<void>): void {
    this.background.push(work);
  }

  /**
   * Work for beside the next steps that starts a process: it starts once the next
   * activation has started ({@link startDeferred}), since starting a process holds up the
   * agent for a few milliseconds, and the activation comes first. At the latest it starts
   * when the deployment settles. It must not reject.
   */
  soon(work: () => Promise<void>): void {
    this.deferred.push(work);
  }

  /** Starts the work given to {@link soon} (right after an activation was started). */
  startDeferred(): void {
    for (const work of this.deferred.splice(0)) this.meanwhile(work());
  }

  /**
   * Work that starts only once the result is out, when the deployment settles: what can
   * wait for that (the GC root of a new generation, which the deployment's own pin covers
   * until then) and would otherwise slow the activations down. It must not reject.
   */
  afterResult(work: () => Promise<void>): void {
    this.atEnd.push(work);
  }

  /** Resolves once all work given to {@link meanwhile}, {@link soon} or {@link afterResult} has ended. */
  async settled(): Promise<void> {
    this.startDeferred();
    for (const work of this.atEnd.splice(0)) this.meanwhile(work());
    await Promise.all(this.background.splice(0));
  }

  /**
   * Starts taking the profile's lock for a commit that is likely to follow (while the
   * controller's confirmation is on its way): the commit then finds it held.
   */
  lockProfileAhead(lock: Promise<ProfileLock | null>): void {
    void this.releaseProfileLock();
    this.profileLock = lock;
  }

  /** The lock taken ahead, if any; the caller now owns it (and releases it). */
  async takeProfileLock(): Promise<ProfileLock | null> {
    const lock = this.profileLock;
    this.profileLock = null;
    return lock === null ? null : await lock;
  }

  /** Releases a lock taken ahead that no commit took (rolling back, finishing, stopping). */
  async releaseProfileLock(): Promise<void> {
    await (await this.takeProfileLock())?.release();
  }

  /** Stores the result (it is sent until acknowledged) after the last log lines. */
  async deliver(result: DeployResult): Promise<void> {
    this.batcher.flush();
    this.delivered = true;
    await this.options.reporter.deliverResult(result);
  }
}
