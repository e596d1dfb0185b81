import { access, mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  CacheSource,
  DeployAction,
  DeployOutcome,
  ErrorBody,
  HealthCheck,
  HealthCheckResult,
  StorePath,
} from '@flotilla/protocol';
import * as z from 'zod';
import { readJsonFile, writeFileAtomic } from '@flotilla/runtime';
import { ActivationHandle, ActivationOutcome, ActivationStep } from './activator.js';

/**
 * Where a deployment stands on this host. `switch` runs fetching → activating (as `test`)
 * → confirming → committing → finished; `boot` runs fetching → setting_profile →
 * activating → finished; any failure after something changed leads to rolling_back.
 */
export const JournalPhase = z.enum([
  'fetching',
  'setting_profile',
  'activating',
  'confirming',
  'committing',
  'rolling_back',
  'finished',
]);
export type JournalPhase = z.infer<typeof JournalPhase>;

/** The activation the current phase started, and how far its log was forwarded. */
export const ActivationRecord = z.object({
  step: ActivationStep,
  attempt: z.number().int().positive(),
  handle: ActivationHandle,
  /** Bytes of the log already sent as `deploy.log`; a restarted agent continues here. */
  logOffset: z.number().int().nonnegative(),
  startedAt: z.number(),
  /** Known once the activation has ended. */
  outcome: ActivationOutcome.nullable(),
});
export type ActivationRecord = z.infer<typeof ActivationRecord>;

/**
 * Everything needed to carry a deployment on after the agent (or the host) restarted.
 * Written before each step acts, so the step can always be redone or followed again.
 */
export const DeploymentJournal = z.object({
  version: z.literal(1),
  deploymentId: z.string().min(1).max(64),
  storePath: StorePath,
  action: DeployAction,
  /** Kept for a fetch that is redone after a restart (a URL only, no secret). */
  cache: CacheSource.nullable(),
  /** Exact realpath of the current-system link before anything changed; null on a fresh host. */
  previousSystem: z.string().nullable(),
  phase: JournalPhase,
  confirmTimeoutSeconds: z.number().int().positive(),
  /** Epoch ms after which, unconfirmed, the host rolls back by itself; set when activation ends. */
  confirmDeadline: z.number().nullable(),
  /** The agent config's checks when the deployment began. */
  healthChecks: z.array(HealthCheck),
  /** Units failed before activating (null without systemd), so only new failures count. */
  failedUnitsBefore: z.array(z.string()).nullable(),
  /** Health check results once they ran; re-sent with every confirm request. */
  health: z.array(HealthCheckResult).nullable(),
  /** The profile may point at the new system (set before `nix-env --set` runs). */
  profileChanged: z.boolean(),
  activation: ActivationRecord.nullable(),
  /** Exit code of the new system's own activation (reported in the result). */
  activationExitCode: z.number().int().nullable(),
  rebootRequired: z.boolean(),
  rollbackReason: z.string().nullable(),
  /** Why the rollback happened or the deployment failed, as sent in the result. */
  error: ErrorBody.nullable(),
  outcome: DeployOutcome.nullable(),
  /** When each phase was (last) entered, epoch ms. */
  phaseTimes: z.partialRecord(JournalPhase, z.number()),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type DeploymentJournal = z.infer<typeof DeploymentJournal>;

/** What happened when the journal file was read. */
export type JournalLoad =
  | { kind: 'none' }
  | { kind: 'loaded'; journal: DeploymentJournal }
  | { kind: 'unreadable'; movedTo: string };

/** The deployment journal: one JSON file in the state directory, replaced atomically. */
export class JournalStore {
  constructor(readonly file: string) {}

  async load(): Promise<JournalLoad> {
    const data = await readJsonFile(this.file);
    if (data === undefined && !(await this.exists())) return { kind: 'none' };
    const parsed = DeploymentJournal.safeParse(data);
    if (parsed.success) return { kind: 'loaded', journal: parsed.data };
    // Kept for a human to look at; an unreadable journal must not block every later deployment.
    const movedTo = `${this.file}.unreadable-${Date.now()}`;
    await rename(this.file, movedTo);
    return { kind: 'unreadable', movedTo };
  }

  /**
   * `durable: false` skips the fsyncs, for changes whose loss in a power cut costs nothing
   * but repeated work (how far the activation log was forwarded); never torn either way.
   */
  async save(journal: DeploymentJournal, { durable = true } = {}): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, JSON.stringify(journal, null, 2), 0o600, { durable });
  }

  private async exists(): Promise<boolean> {
    try {
      await access(this.file);
      return true;
    } catch {
      return false;
    }
  }
}
