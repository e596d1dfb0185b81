import { FlotillaError, type RebootAnswer, type RebootResult } from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { EventRepository } from '../storage/event.repository.js';
import { newId } from '../support/tokens.js';
import type { HostService } from './host.service.js';
import type { PresenceService } from './presence.service.js';

/** Reboots on request: sent to the agent, reported back once the host has booted again. */
export class RebootService {
  constructor(
    private readonly options: {
      hosts: HostService;
      presence: PresenceService;
      events: EventRepository;
      clock: Clock;
    },
  ) {}

  async request(hostName: string, actor: string): Promise<RebootAnswer> {
    const { hosts, presence, events, clock } = this.options;
    const host = await hosts.require(hostName);
    if (host.mode !== 'managed') {
      throw new FlotillaError(
        'host_not_managed',
        `host "${hostName}" is monitor-only; Flotilla never reboots it`,
      );
    }
    const now = clock.now();
    const requestId = newId('rb', now);
    // Recorded first: the audit trail must show the request even if the agent never answers.
    await events.append([
      {
        at: now.toISOString(),
        kind: 'host.reboot_requested',
        actor,
        hostName,
        data: { requestId },
      },
    ]);
    if (!presence.send(hostName, { type: 'reboot.request', requestId })) {
      throw new FlotillaError(
        'agent_disconnected',
        `host "${hostName}" is offline; it cannot be rebooted now`,
      );
    }
    return { requestId, host: hostName };
  }

  async onResult(hostName: string, message: RebootResult): Promise<void> {
    const { events, clock } = this.options;
    await events.append([
      {
        at: clock.now().toISOString(),
        kind: message.ok ? 'host.rebooted' : 'host.reboot_failed',
        actor: `agent:${hostName}`,
        hostName,
        data: { requestId: message.requestId, error: message.error?.message ?? null },
      },
    ]);
  }
}
