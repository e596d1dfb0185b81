import type { AuditList, AuditQuery } from '@flotilla/protocol';
import type { EventRepository } from '../storage/event.repository.js';

/** The audit log: every action and transition with its actor, time and reason. Reads only. */
export class AuditService {
  constructor(private readonly events: Pick<EventRepository, 'list'>) {}

  async list(query: AuditQuery): Promise<AuditList> {
    const rows = await this.events.list(query);
    const entries = rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      kind: r.kind,
      actor: r.actor,
      host: r.host_name,
      deploymentId: r.deployment_id,
      data: r.data_json === null ? null : (JSON.parse(r.data_json) as unknown),
    }));
    return {
      entries,
      nextCursor: entries.length === query.limit ? (entries.at(-1)?.id ?? null) : null,
    };
  }
}
