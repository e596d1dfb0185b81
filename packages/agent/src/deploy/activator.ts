import { DeployAction } from '@flotilla/protocol';
import * as z from 'zod';

/** Which of a deployment's activations this is; each gets its own log and result files. */
export const ActivationStep = z.enum(['activate', 'commit', 'rollback']);
export type ActivationStep = z.infer<typeof ActivationStep>;

/** Where a started activation can be found again, also by a restarted agent (kept in the journal). */
export const ActivationHandle = z.object({
  /** Unique within the deployment, e.g. `activate` or `rollback-2`. */
  name: z.string(),
  /** Everything the activation prints, stdout and stderr interleaved. */
  logFile: z.string(),
  /** Written by the runner (in place, with one write) when the activation has ended. */
  resultFile: z.string(),
  /** Claimed by the runner before it starts the activation (see activation-runner.sh). */
  pidFile: z.string(),
  /** The transient systemd unit running it, when systemd-run is used. */
  unit: z.string().nullable(),
  command: z.array(z.string()),
});
export type ActivationHandle = z.infer<typeof ActivationHandle>;

/** How an activation ended. */
export const ActivationOutcome = z.object({
  /** Null when it was killed by a signal, never started, or its end was not recorded. */
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  /** Why the program could not be started. */
  spawnError: z.string().nullable(),
  /** Why the outcome is unknown (the runner vanished without recording one). */
  lost: z.string().nullable(),
});
export type ActivationOutcome = z.infer<typeof ActivationOutcome>;

/** What to activate. */
export interface ActivationStart {
  deploymentId: string;
  step: ActivationStep;
  /** 1 for the first try of a step; later tries get fresh files and unit names. */
  attempt: number;
  /** The system whose `bin/switch-to-configuration` runs. */
  storePath: string;
  action: DeployAction;
}

export interface FollowOptions {
  /** Bytes of the log already forwarded; following continues there. */
  offset: number;
  /** When the activation was started (epoch ms), to tell a slow start from one that never began. */
  startedAt: number;
  /** Receives complete new log lines and the offset after them; awaited before reading on. */
  onLines(lines: string[], offset: number): Promise<void>;
  /** Following stops (rejecting with StoppedError) when this fires; the activation runs on. */
  signal: AbortSignal;
}

/**
 * Runs a system's `switch-to-configuration` so that it outlives the agent: activating a
 * system restarts services, possibly the agent itself, and that must never cut an
 * activation short. The executor only starts activations and follows them (again, after a
 * restart) until they end.
 */
export interface Activator {
  /**
   * Where the activation will be found; nothing starts yet. The caller records the handle
   * in its journal first, so an agent that dies right after `start` still knows about it.
   */
  plan(request: ActivationStart): ActivationHandle;
  start(handle: ActivationHandle): Promise<void>;
  /** Streams the log from `offset` and resolves once the activation has ended. */
  follow(handle: ActivationHandle, options: FollowOptions): Promise<ActivationOutcome>;
  /** Removes the files of a finished deployment's activations. */
  discard(deploymentId: string): Promise<void>;
}

/** The program an activation runs for a system. */
export function switchToConfiguration(storePath: string): string {
  return `${storePath}/bin/switch-to-configuration`;
}

/** Describes how an activation ended, e.g. "exited 2", for log lines and rollback reasons. */
export function describeActivation(outcome: ActivationOutcome): string {
  if (outcome.spawnError !== null) return `could not be started: ${outcome.spawnError}`;
  if (outcome.signal !== null) return `was killed by ${outcome.signal}`;
  if (outcome.exitCode !== null) return `exited ${outcome.exitCode}`;
  return `ended without a recorded exit code (${outcome.lost ?? 'unknown'})`;
}
