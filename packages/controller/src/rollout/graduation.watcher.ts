import type { Logger } from 'pino';
import type { PolicyService } from './policy.service.js';

/**
 * Tells people, once per stable period, that a host may be promoted to `auto`. Reading
 * graduation never writes or notifies; this background check does, every few minutes.
 */
export class GraduationWatcher {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: {
      policies: Pick<PolicyService, 'announceEligible'>;
      logger: Logger;
      intervalMs?: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.intervalMs ?? 5 * 60_000);
    this.timer.unref();
    void this.check();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
  }

  /** One look: hosts newly eligible are announced. */
  check(): Promise<unknown> {
    this.checking = this.checking
      .then(() => this.options.policies.announceEligible())
      .catch((error: unknown) =>
        this.options.logger.error({ err: error }, 'checking graduation failed'),
      );
    return this.checking;
  }
}
