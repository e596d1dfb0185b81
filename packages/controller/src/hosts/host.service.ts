import {
  compareVersions,
  Facts,
  FLOTILLA_VERSION,
  FlotillaError,
  Metrics,
  type CreateHostRequest,
  type CreateHostResponse,
  type Host,
  type HostList,
  type HostListQuery,
  type HostStatus,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { EventRepository } from '../storage/event.repository.js';
import type { HostRepository, HostRow } from '../storage/host.repository.js';
import { generateToken, hashToken } from '../support/tokens.js';
import type { LiveHost, PresenceService } from './presence.service.js';

export interface HostServiceOptions {
  hosts: HostRepository;
  events: EventRepository;
  presence: PresenceService;
  clock: Clock;
  /** Called after a host is registered (policies offer it the newest release built for it). */
  onRegistered?: (name: string) => Promise<void>;
}

/** The host registry: registration, agent authentication and the merged live view. */
export class HostService {
  constructor(private readonly options: HostServiceOptions) {}

  async register(request: CreateHostRequest, actor: string): Promise<CreateHostResponse> {
    const { hosts, events, clock } = this.options;
    if (await hosts.findByName(request.name)) {
      throw new FlotillaError('host_exists', `host "${request.name}" is already registered`);
    }
    const token = generateToken('flta');
    const now = clock.now().toISOString();
    await hosts.insert({
      name: request.name,
      mode: request.mode,
      os: request.os ?? null,
      tokenHash: hashToken(token),
      createdAt: now,
    });
    await events.append([
      {
        at: now,
        kind: 'host.registered',
        actor,
        hostName: request.name,
        data: { mode: request.mode },
      },
    ]);
    const row = await hosts.findByName(request.name);
    if (!row) throw new FlotillaError('internal_error', 'host vanished after insert');
    await this.options.onRegistered?.(request.name);
    return { host: this.toHost(row), token };
  }

  /** The host an agent token belongs to, or undefined. */
  async authenticateAgent(token: string): Promise<HostRow | undefined> {
    return this.options.hosts.findByTokenHash(hashToken(token));
  }

  async get(name: string): Promise<Host> {
    const row = await this.options.hosts.findByName(name);
    if (!row) throw new FlotillaError('host_not_found', `no host named "${name}"`);
    return this.toHost(row);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.options.hosts.findByName(name)) !== undefined;
  }

  async require(name: string): Promise<HostRow> {
    const row = await this.options.hosts.findByName(name);
    if (!row) throw new FlotillaError('host_not_found', `no host named "${name}"`);
    return row;
  }

  async list(query: HostListQuery): Promise<HostList> {
    const { hosts, presence } = this.options;
    const rows = await this.pageRows(query);
    const counts = await hosts.countAll();
    const online = presence.onlineCount;
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      hosts: page.map((row) => this.toHost(row)),
      nextCursor: rows.length > query.limit && last ? last.name : null,
      counts: {
        total: counts.total,
        online,
        offline: counts.total - online - counts.neverSeen,
        neverSeen: counts.neverSeen,
      },
    };
  }

  /** Up to limit+1 rows (the extra one tells whether another page exists). */
  private async pageRows(query: HostListQuery): Promise<HostRow[]> {
    const { hosts, presence } = this.options;
    const want = query.limit + 1;
    if (query.status === undefined) return hosts.page(want, query.cursor);
    if (query.status === 'online') {
      return hosts.findByNames(presence.onlineNames(want, query.cursor));
    }
    const out: HostRow[] = [];
    let cursor = query.cursor;
    for (;;) {
      const batch = await hosts.page(1000, cursor);
      for (const row of batch) {
        if (this.statusOf(row, presence.get(row.name)) === query.status) out.push(row);
        if (out.length >= want) return out;
      }
      const last = batch.at(-1);
      if (batch.length < 1000 || !last) return out;
      cursor = last.name;
    }
  }

  private statusOf(row: HostRow, live: LiveHost | undefined): HostStatus {
    if (live) return 'online';
    return row.last_connected_at === null ? 'never_seen' : 'offline';
  }

  /** Merges the stored row with the live session, which is fresher when present. */
  toHost(row: HostRow): Host {
    const live = this.options.presence.get(row.name);
    const agentVersion = live?.agentVersion ?? row.agent_version;
    const facts = live?.facts ?? parseStored(Facts, row.facts_json);
    return {
      name: row.name,
      mode: row.mode,
      os: row.os,
      status: this.statusOf(row, live),
      agentVersion,
      agentOutdated: agentVersion !== null && compareVersions(agentVersion, FLOTILLA_VERSION) < 0,
      protocolVersion: live?.protocolVersion ?? row.protocol_version,
      connectedAt: live ? live.connectedAt.toISOString() : null,
      lastSeenAt: live ? new Date(live.lastHeartbeatMs).toISOString() : row.last_seen_at,
      facts,
      factsAt: row.facts_at,
      metrics: live?.metrics ?? parseStored(Metrics, row.metrics_json) ?? facts?.metrics ?? null,
      createdAt: row.created_at,
    };
  }
}

/** Parses a JSON column; a row written by an older version that no longer parses shows as absent. */
function parseStored<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  json: string | null,
): T | null {
  if (json === null) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
