import type {
  DeployLog,
  DeployPhase,
  DeployProgress,
  DeployRequest,
  DeployResult,
  ErrorCode,
  HostMode,
  LogStream,
} from '@flotilla/protocol';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { describeExit } from '../process-runner.js';
import type { Activator } from './activator.js';
import { DeployLogBatcher } from './log-batcher.js';
import type { SystemStore } from './nix-store.js';

/** Where a deployment's messages go. Results must survive a lost connection; the rest may not. */
export interface DeploymentReporter {
  send(message: DeployProgress | DeployLog): void;
  deliverResult(result: DeployResult): Promise<void>;
}

export interface DeploymentExecutorOptions {
  mode: HostMode;
  profile: string;
  store: SystemStore;
  activator: Activator;
  /** Reads where the current-system link points now. */
  readCurrentSystem(): Promise<string | null>;
  reporter: DeploymentReporter;
  clock: Clock;
  logger: Logger;
  /** Called after every deployment that ran, e.g. to report the new facts. */
  onFinished?: () => void;
}

/**
 * switch-to-configuration's exit code when the new system needs a reboot to take effect
 * (the init system changed). Nothing failed, so it counts as success, with a log line.
 */
const EXIT_REBOOT_REQUIRED = 100;

/** Why a deployment failed, as sent in the result's `error`. */
type Failure = { code: ErrorCode; message: string };

/** One deployment's request and the ways it reports progress. */
interface RunContext {
  request: DeployRequest;
  /** A narrative line from the agent itself, logged locally and sent with the output. */
  say: (line: string) => void;
  /** A line printed by a command the deployment runs. */
  output: (stream: LogStream, line: string) => void;
  phase: (phase: DeployPhase) => void;
}

/** Runs one deployment at a time: fetch the closure, set the profile, activate, report. */
export class DeploymentExecutor {
  private runningId: string | null = null;

  constructor(private readonly options: DeploymentExecutorOptions) {}

  /** The deployment being run, if any. */
  get running(): string | null {
    return this.runningId;
  }

  /** Handles a request to completion, answering with exactly one `deploy.result`. Never rejects. */
  async handle(request: DeployRequest): Promise<void> {
    const logger = this.options.logger.child({ deploymentId: request.deploymentId });
    if (this.options.mode === 'monitor') {
      logger.warn('refusing deployment: this host is monitor-only');
      return this.refuse(request, 'host_not_managed', 'this host is monitor-only (mode monitor)');
    }
    if (this.runningId === request.deploymentId) {
      // A repeated request (e.g. after a reconnect): its result will follow when it ends.
      logger.info('deployment is already running; ignoring the repeated request');
      return;
    }
    if (this.runningId !== null) {
      logger.warn('refusing deployment: another one is running', { running: this.runningId });
      return this.refuse(request, 'agent_busy', `deployment ${this.runningId} is still running`);
    }
    this.runningId = request.deploymentId;
    try {
      await this.options.reporter.deliverResult(await this.run(request, logger));
    } finally {
      this.runningId = null;
    }
    this.options.onFinished?.();
  }

  private refuse(request: DeployRequest, code: ErrorCode, message: string): Promise<void> {
    return this.options.reporter.deliverResult({
      type: 'deploy.result',
      deploymentId: request.deploymentId,
      outcome: 'refused',
      exitCode: null,
      error: { code, message },
      currentSystem: null,
    });
  }

  private async run(request: DeployRequest, logger: Logger): Promise<DeployResult> {
    const { reporter, clock } = this.options;
    const batcher = new DeployLogBatcher({
      deploymentId: request.deploymentId,
      send: (message) => reporter.send(message),
      clock,
    });
    const run: RunContext = {
      request,
      say: (line) => {
        logger.info(line);
        batcher.add('agent', line);
      },
      output: (stream, line) => batcher.add(stream, line),
      phase: (phase) => {
        batcher.flush();
        reporter.send({ type: 'deploy.progress', deploymentId: request.deploymentId, phase });
      },
    };
    let failure: Failure | null = null;
    let exitCode: number | null = null;
    try {
      run.say(`deploying ${request.storePath} (${request.action})`);
      failure = await this.fetch(run);
      if (failure === null && (request.action === 'switch' || request.action === 'boot')) {
        failure = await this.setProfile(run);
      }
      if (failure === null) ({ exitCode, failure } = await this.activate(run));
    } catch (error) {
      failure = {
        code: 'internal_error',
        message: error instanceof Error ? error.message : String(error),
      };
    }
    const currentSystem = await this.options.readCurrentSystem();
    run.say(
      failure === null
        ? `succeeded; current system is ${currentSystem ?? 'unknown'}`
        : `failed: ${failure.message}`,
    );
    batcher.flush();
    return {
      type: 'deploy.result',
      deploymentId: request.deploymentId,
      outcome: failure === null ? 'succeeded' : 'failed',
      exitCode,
      error: failure,
      currentSystem,
    };
  }

  private async fetch({ request, phase, say, output }: RunContext): Promise<Failure | null> {
    phase('fetching');
    const { store } = this.options;
    if (await store.isValid(request.storePath)) {
      say(`${request.storePath} is already in the store`);
      return null;
    }
    if (request.cache === null) {
      const message = `${request.storePath} is not in the store and no binary cache was given`;
      return { code: 'fetch_failed', message };
    }
    say(`fetching ${request.storePath} from ${safeUrl(request.cache.url)}`);
    const fetched = await store.fetch(request.cache, request.storePath, output);
    if (!fetched.ok) return { code: 'fetch_failed', message: fetched.reason };
    say(`fetched ${request.storePath}`);
    return null;
  }

  private async setProfile({ request, phase, say, output }: RunContext): Promise<Failure | null> {
    phase('setting_profile');
    const { profile, store } = this.options;
    say(`setting profile ${profile} to ${request.storePath}`);
    const set = await store.setProfile(profile, request.storePath, output);
    return set.ok ? null : { code: 'profile_failed', message: set.reason };
  }

  private async activate({
    request,
    phase,
    say,
    output,
  }: RunContext): Promise<{ exitCode: number | null; failure: Failure | null }> {
    phase('activating');
    const command = `${request.storePath}/bin/switch-to-configuration ${request.action}`;
    say(`running ${command}`);
    const outcome = await this.options.activator.activate({
      storePath: request.storePath,
      action: request.action,
      onLine: output,
    });
    const { exitCode } = outcome;
    say(`activation ${describeExit(outcome)}`);
    if (exitCode === 0) return { exitCode, failure: null };
    if (exitCode === EXIT_REBOOT_REQUIRED) {
      say(`switch-to-configuration exited ${EXIT_REBOOT_REQUIRED}: reboot required to finish`);
      return { exitCode, failure: null };
    }
    const message = `${command} ${describeExit(outcome)}`;
    return { exitCode, failure: { code: 'activation_failed', message } };
  }
}

/** The cache URL without credentials, for log lines. */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
