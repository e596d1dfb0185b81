import { FlotillaError, type RebootAnswer, type RebootResult } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import { RebootRequestRepository } from '../storage/hardening.repositories.js';
import type { Store } from '../storage/store.js';
import { newId } from '../support/tokens.js';
import type { HostService } from './host.service.js';
import type { PresenceService } from './presence.service.js';

/**
 * How long a host has to report the outcome of a reboot it was asked for: a host may stay
 * down (or away from the controller) a while after rebooting.
 */
const RESULT_WINDOW_MS = 7 * 86_400_000;

/**
 * Reboots on request: sent to the agent, reported back once the host has booted again. A
 * result is taken only for a reboot that was asked of that host and not answered yet, so
 * an agent cannot write audit entries for reboots nobody asked for.
 */
export class RebootService {
  constructor(
    private readonly options: {
      hosts: HostService;
      presence: PresenceService;
      store: Store;
      clock: Clock;
    },
  ) {}

  async request(hostName: string, actor: string): Promise<RebootAnswer> {
    const { hosts, presence, store, clock } = this.options;
    const host = await hosts.require(hostName);
    if (host.mode !== 'managed' || host.os === 'darwin') {
      throw new FlotillaError(
        'host_not_managed',
        `host "${hostName}" is ${host.os === 'darwin' ? 'a Mac, which Flotilla only monitors' : 'monitor-only'}; Flotilla never reboots it`,
      );
    }
    const now = clock.now();
    const requestId = newId('rb', now);
    // Recorded first: the audit trail must show the request even if the agent never answers.
    await store.transaction(async (tx) => {
      await new RebootRequestRepository(tx.db).insert({
        id: requestId,
        hostName,
        actor,
        at: now.toISOString(),
      });
      await tx.events.append([
        {
          at: now.toISOString(),
          kind: 'host.reboot_requested',
          actor,
          hostName,
          data: { requestId },
        },
      ]);
    });
    if (!presence.send(hostName, { type: 'reboot.request', requestId })) {
      // Never sent: no result can be expected for it.
      await new RebootRequestRepository(store.db).remove(requestId);
      throw new FlotillaError(
        'agent_disconnected',
        `host "${hostName}" is offline; it cannot be rebooted now`,
      );
    }
    return { requestId, host: hostName };
  }

  /** Records a host's reboot outcome; `reboot_not_requested` unless it answers an open request. */
  async onResult(hostName: string, message: RebootResult): Promise<void> {
    const { store, clock } = this.options;
    const now = clock.now();
    const since = new Date(now.getTime() - RESULT_WINDOW_MS).toISOString();
    await store.transaction(async (tx) => {
      const answered = await new RebootRequestRepository(tx.db).answer(
        message.requestId,
        hostName,
        since,
        now.toISOString(),
      );
      if (!answered) {
        throw new FlotillaError(
          'reboot_not_requested',
          `no reboot ${message.requestId.slice(0, 64)} was asked of "${hostName}" (or it was answered)`,
        );
      }
      await tx.events.append([
        {
          at: now.toISOString(),
          kind: message.ok ? 'host.rebooted' : 'host.reboot_failed',
          actor: `agent:${hostName}`,
          hostName,
          data: {
            requestId: message.requestId,
            error: message.error?.message.slice(0, 2000) ?? null,
          },
        },
      ]);
    });
  }
}
