import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { DueDelivery, NotificationRepository } from '../storage/notification.repository.js';
import { sendHttpRequest, type RequestSender, type SendOutcome } from './http.sender.js';
import type { Receiver } from './notifications.config.js';
import { toPayload } from './notification.service.js';
import { buildReceiverRequest } from './receiver.requests.js';

export interface DeliveryWorkerOptions {
  repository: NotificationRepository;
  receivers: readonly Receiver[];
  clock: Clock;
  logger: Logger;
  /** Default: `fetch` over HTTP(S). */
  send?: RequestSender;
  /** Requests in flight at once, over all receivers. */
  concurrency?: number;
  requestTimeoutMs?: number;
  /** Attempts before a delivery is given up as `failed`. */
  maxAttempts?: number;
  /** Delay before the second attempt; doubles with each further one (milliseconds). */
  baseRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Uniform in [0, 1); injected so that tests know the jitter. */
  random?: () => number;
  /**
   * Longest sleep between looks at the outbox (milliseconds). New notifications wake the
   * worker at once; this only bounds how late a missed wake-up is noticed.
   */
  idlePollMs?: number;
}

const DEFAULTS = {
  concurrency: 4,
  requestTimeoutMs: 5_000,
  maxAttempts: 10,
  baseRetryDelayMs: 5_000,
  maxRetryDelayMs: 3_600_000,
  idlePollMs: 60_000,
};

/**
 * Delay before the attempt after `attempts` failed ones: base × 2^(attempts−1), capped,
 * minus up to half of it at random so that receivers coming back are not hit by every
 * retry at the same moment.
 */
export function retryDelayMs(
  attempts: number,
  options: { baseMs: number; maxMs: number; random: () => number },
): number {
  const nominal = Math.min(options.baseMs * 2 ** Math.max(0, attempts - 1), options.maxMs);
  return Math.round(nominal * (1 - 0.5 * options.random()));
}

/**
 * Sends due deliveries from the outbox in the background, a bounded number at a time,
 * each with a timeout, and records every attempt. A failed attempt is retried with
 * exponential backoff and jitter until `maxAttempts`. Delivery is at least once: a crash
 * between sending and recording sends again after a restart (receivers dedupe by id).
 */
export class NotificationDeliveryWorker {
  private readonly settings: typeof DEFAULTS & { random: () => number; send: RequestSender };
  private readonly receivers: Map<string, Receiver>;
  private readonly inFlight = new Map<string, Promise<void>>();
  private running = false;
  private stopped = false;
  /** The background loop while it runs; a wake-up meanwhile asks it to go round again. */
  private loop: Promise<void> | undefined;
  private lookAgain = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.settings = {
      ...DEFAULTS,
      ...definedOnly(options),
      random: options.random ?? Math.random,
      send: options.send ?? sendHttpRequest,
    };
    this.receivers = new Map(options.receivers.map((r) => [r.name, r]));
  }

  /** Starts sending; deliveries left pending before a restart go out at once. */
  start(): void {
    this.running = true;
    this.wake();
  }

  /** Stops taking new deliveries and waits for those in flight (bounded by their timeout). */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.loop;
    await Promise.all(this.inFlight.values());
  }

  /** Looks for due deliveries now (called when a notification is queued). */
  wake(): void {
    if (!this.running) return;
    if (this.loop !== undefined) {
      this.lookAgain = true;
      return;
    }
    this.loop = this.runLoop();
  }

  /**
   * Starts every delivery due now that fits in the free slots and resolves when those have
   * been attempted and recorded. The background loop uses the same step; tests call it
   * directly with a manual clock instead of starting the worker.
   */
  async runDue(): Promise<void> {
    const { attempts } = await this.startDue();
    await Promise.all(attempts);
  }

  private async runLoop(): Promise<void> {
    try {
      do {
        this.lookAgain = false;
        // The attempts go on by themselves: each is tracked in `inFlight` and never rejects.
        await this.startDue();
        await this.scheduleNextLook();
      } while (this.lookAgain && this.running);
    } catch (error) {
      // The database is unavailable: look again later rather than give up sending.
      this.options.logger.error({ err: error }, 'notification outbox unreadable');
      this.setTimer(this.settings.idlePollMs);
    } finally {
      // Cleared in the same step as the last check of `lookAgain`, so no wake-up is lost.
      this.loop = undefined;
    }
  }

  private async startDue(): Promise<{ attempts: Promise<void>[] }> {
    if (this.stopped) return { attempts: [] };
    const free = this.settings.concurrency - this.inFlight.size;
    if (free <= 0) return { attempts: [] };
    const now = this.options.clock.now().toISOString();
    const due = await this.options.repository.due(now, free, [...this.inFlight.keys()]);
    const started: Promise<void>[] = [];
    // Runs synchronously after the query, so two overlapping calls cannot start the same
    // delivery twice: the second sees it in `inFlight`.
    for (const delivery of due) {
      if (this.stopped) break;
      if (this.inFlight.has(delivery.id)) continue;
      if (this.inFlight.size >= this.settings.concurrency) break;
      const attempt = this.attempt(delivery).finally(() => {
        this.inFlight.delete(delivery.id);
        this.wake();
      });
      this.inFlight.set(delivery.id, attempt);
      started.push(attempt);
    }
    return { attempts: started };
  }

  /** Sleeps until the next delivery is due; a finishing attempt or a new one wakes it. */
  private async scheduleNextLook(): Promise<void> {
    if (!this.running) return;
    if (this.inFlight.size >= this.settings.concurrency) return;
    const next = await this.options.repository.nextDueAt([...this.inFlight.keys()]);
    const wait =
      next === null
        ? this.settings.idlePollMs
        : Date.parse(next) - this.options.clock.now().getTime();
    this.setTimer(Math.min(Math.max(wait, 0), this.settings.idlePollMs));
  }

  private setTimer(ms: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), ms);
    // Pending notifications must not keep a stopping process alive.
    this.timer.unref();
  }

  /** One attempt; never rejects (an unexpected error is recorded like a failed send). */
  private async attempt(delivery: DueDelivery): Promise<void> {
    const { logger, repository } = this.options;
    let outcome: SendOutcome;
    try {
      outcome = await this.send(delivery);
    } catch (error) {
      logger.error({ err: error, delivery: delivery.id }, 'notification delivery crashed');
      outcome = { ok: false, error: 'internal error while sending' };
    }
    const attempts = delivery.attempts + 1;
    const now = this.options.clock.now();
    try {
      if (outcome.ok) {
        await repository.recordAttempt(delivery.id, {
          status: 'delivered',
          attempts,
          nextAttemptAt: null,
          lastError: null,
          deliveredAt: now.toISOString(),
        });
        return;
      }
      const giveUp = outcome.permanent === true || attempts >= this.settings.maxAttempts;
      const delay = retryDelayMs(attempts, {
        baseMs: this.settings.baseRetryDelayMs,
        maxMs: this.settings.maxRetryDelayMs,
        random: this.settings.random,
      });
      await repository.recordAttempt(delivery.id, {
        status: giveUp ? 'failed' : 'pending',
        attempts,
        nextAttemptAt: giveUp ? null : new Date(now.getTime() + delay).toISOString(),
        lastError: outcome.error,
        deliveredAt: null,
      });
      const log = { receiver: delivery.receiver, notification: delivery.notification_id };
      if (giveUp) logger.error({ ...log, attempts, error: outcome.error }, 'notification failed');
      else logger.warn({ ...log, attempts, error: outcome.error }, 'notification retry later');
    } catch (error) {
      // Left pending: it is sent again, which receivers tolerate (ids repeat).
      logger.error({ err: error, delivery: delivery.id }, 'notification outcome not recorded');
    }
  }

  private async send(delivery: DueDelivery): Promise<SendOutcome> {
    const receiver = this.receivers.get(delivery.receiver);
    // The config changed since the delivery was queued; nothing to send it to.
    if (receiver === undefined) {
      return { ok: false, error: 'receiver no longer configured', permanent: true };
    }
    const payload = toPayload({ ...delivery, id: delivery.notification_id });
    const request = buildReceiverRequest(receiver, payload, delivery.id);
    const secrets = receiver.type === 'webhook' ? [receiver.secret] : [receiver.token];
    return this.settings.send(request, {
      timeoutMs: this.settings.requestTimeoutMs,
      secrets: secrets.filter((s): s is string => s !== null),
    });
  }
}

function definedOnly(options: DeliveryWorkerOptions): Partial<typeof DEFAULTS> {
  const picked: Partial<typeof DEFAULTS> = {};
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = options[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked;
}
