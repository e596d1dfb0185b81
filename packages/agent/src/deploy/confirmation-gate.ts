import type { DeployConfirmRequest } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import { StoppedError } from '../stop-signal.js';

interface Waiting {
  request: DeployConfirmRequest;
  settle(confirmed: boolean): void;
}

/**
 * Where a deployment waits for the controller's `deploy.confirm`. The request is sent at
 * once and again after every reconnect, since only a controller that can reach the host
 * running the new system can answer, and the link may come and go while it settles.
 */
export class ConfirmationGate {
  private waiting: Waiting | null = null;

  /** `send` returns false when not connected; the request then goes out after the next welcome. */
  constructor(private readonly send: (message: DeployConfirmRequest) => boolean) {}

  /**
   * Resolves true when confirmed and false once the clock reaches `deadline` (epoch ms);
   * rejects with StoppedError when `signal` fires.
   */
  wait(
    request: DeployConfirmRequest,
    deadline: number,
    clock: Clock,
    signal: AbortSignal,
  ): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new StoppedError());
      const end = (outcome: () => void) => {
        cancelTimer();
        signal.removeEventListener('abort', onAbort);
        if (this.waiting === waiting) this.waiting = null;
        outcome();
      };
      const onAbort = () => end(() => reject(new StoppedError()));
      const delay = Math.max(0, deadline - clock.now().getTime());
      const cancelTimer = clock.setTimer(() => end(() => resolve(false)), delay);
      const waiting: Waiting = { request, settle: (confirmed) => end(() => resolve(confirmed)) };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting = waiting;
      this.send(request);
    });
  }

  /** Settles the wait of this deployment; false when nothing was waiting for it. */
  confirm(deploymentId: string): boolean {
    if (this.waiting?.request.deploymentId !== deploymentId) return false;
    this.waiting.settle(true);
    return true;
  }

  /** Sends the pending request again; call after every welcome. */
  resend(): void {
    if (this.waiting !== null) this.send(this.waiting.request);
  }
}
