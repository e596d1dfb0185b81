import {
  compareVersions,
  Facts,
  FLOTILLA_VERSION,
  FlotillaError,
  Metrics,
  SENT_DEPLOYMENT_STATUSES,
  type CreateHostRequest,
  type CreateHostResponse,
  type Host,
  type HostList,
  type HostListQuery,
  type HostIdentity,
  type HostStatus,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { HostSettings } from '../config.js';
import type { LiveEvents } from '../events/event-bus.js';
import type { HostRepository, HostRow } from '../storage/host.repository.js';
import type { Store } from '../storage/store.js';
import { issueEnrollmentToken, type HostIdentityService } from './host-identity.service.js';
import type { LiveHost, PresenceService } from './presence.service.js';

export interface HostServiceOptions {
  store: Store;
  presence: PresenceService;
  /** Told about registrations and removals (`hosts.changed`). */
  live: LiveEvents;
  /** Reads each host's enrolled key for the answers that show it. */
  identities: Pick<HostIdentityService, 'identities'>;
  clock: Clock;
  /** Per-host settings of the config file (a declared policy applies from registration). */
  hostSettings: Readonly<Record<string, HostSettings>>;
  /**
   * Called inside the registration's transaction (policies offer the host the newest release
   * built for it before it registered).
   */
  onRegistered?: (tx: Store, name: string) => Promise<void>;
  /** Called after the registration committed (the rollout's gates run). */
  afterRegistered?: (name: string) => Promise<void>;
  /** Called after a removal committed (the host's cache credentials go). */
  afterRemoved?: (name: string) => void;
}

/** The host registry: registration, removal and the merged live view. */
export class HostService {
  constructor(private readonly options: HostServiceOptions) {}

  /**
   * Registers a host with its policy (the config's, else `manual`; a monitor host stays
   * monitor) and its first one-time enrollment token in one transaction, and returns the
   * token once.
   */
  async register(request: CreateHostRequest, actor: string): Promise<CreateHostResponse> {
    const { store, clock, hostSettings } = this.options;
    const now = clock.now().toISOString();
    const declared = hostSettings[request.name]?.policy;
    const mode = declared === 'monitor' ? 'monitor' : request.mode;
    const row = await store.transaction(async (tx) => {
      if (await tx.hosts.findByName(request.name)) {
        throw new FlotillaError('host_exists', `host "${request.name}" is already registered`);
      }
      await tx.hosts.insert({
        name: request.name,
        mode,
        os: request.os ?? null,
        createdAt: now,
      });
      await tx.policies.ensure({
        host_name: request.name,
        policy: declared === 'auto' ? 'auto' : 'manual',
        source: declared ? 'config' : 'default',
        stable_since: now,
        updated_at: now,
        updated_by: declared ? 'config' : 'default',
      });
      await tx.events.append([
        { at: now, kind: 'host.registered', actor, hostName: request.name, data: { mode } },
      ]);
      const enrollment = await issueEnrollmentToken(tx, {
        host: request.name,
        expiresInSeconds: request.enrollmentExpiresInSeconds,
        actor,
        now: clock.now(),
      });
      this.options.live.publish({ type: 'hosts.changed', names: [request.name] }, tx);
      await this.options.onRegistered?.(tx, request.name);
      const inserted = await tx.hosts.findByName(request.name);
      if (!inserted) throw new FlotillaError('internal_error', 'host vanished after insert');
      return { inserted, enrollment };
    });
    await this.options.afterRegistered?.(request.name);
    return { host: await this.withIdentity(row.inserted), enrollment: row.enrollment };
  }

  /**
   * Removes a host: its keys and enrollment tokens go (they cascade) and stop working, its
   * agent is disconnected, its deployments, logs and policy are deleted; the audit log keeps
   * what happened. Refused while a deployment runs on the host (the agent owns it until it
   * ends).
   */
  async remove(
    name: string,
    actor: string,
  ): Promise<{ removed: string; deploymentsRemoved: number }> {
    const { store, presence, clock } = this.options;
    const removed = await store.transaction(async (tx) => {
      const host = await tx.hosts.findByName(name);
      if (!host) throw new FlotillaError('host_not_found', `no host named "${name}"`);
      const running = (await tx.deployments.forHost(name, SENT_DEPLOYMENT_STATUSES))[0];
      if (running) {
        throw new FlotillaError(
          'deployment_in_progress',
          `host "${name}" is running deployment ${running.id} (${running.status}); remove it once that ends`,
          { deploymentId: running.id },
        );
      }
      this.options.live.publish({ type: 'hosts.changed', names: [name] }, tx);
      // Its deployments go too, waiting approvals among them.
      this.options.live.publish({ type: 'approvals.changed' }, tx);
      const deployments = await tx.deployments.deleteForHost(name);
      await tx.policies.deleteForHost(name);
      await tx.hosts.delete(name);
      await tx.events.append([
        {
          at: clock.now().toISOString(),
          kind: 'host.removed',
          actor,
          hostName: name,
          data: { deploymentsRemoved: deployments },
        },
      ]);
      return deployments;
    });
    presence.evict(name, 'host removed');
    this.options.afterRemoved?.(name);
    return { removed: name, deploymentsRemoved: removed };
  }

  private get hosts(): HostRepository {
    return this.options.store.hosts;
  }

  async get(name: string): Promise<Host> {
    const row = await this.hosts.findByName(name);
    if (!row) throw new FlotillaError('host_not_found', `no host named "${name}"`);
    return this.withIdentity(row);
  }

  private async withIdentity(row: HostRow): Promise<Host> {
    const identities = await this.options.identities.identities([row.name]);
    return this.toHost(row, identities.get(row.name));
  }

  async exists(name: string): Promise<boolean> {
    return (await this.hosts.findByName(name)) !== undefined;
  }

  async require(name: string): Promise<HostRow> {
    const row = await this.hosts.findByName(name);
    if (!row) throw new FlotillaError('host_not_found', `no host named "${name}"`);
    return row;
  }

  async list(query: HostListQuery): Promise<HostList> {
    const { presence } = this.options;
    const hosts = this.hosts;
    const rows = await this.pageRows(query);
    const counts = await hosts.countAll();
    const online = presence.onlineCount;
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const identities = await this.options.identities.identities(page.map((row) => row.name));
    return {
      hosts: page.map((row) => this.toHost(row, identities.get(row.name))),
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
    const { presence } = this.options;
    const hosts = this.hosts;
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
  toHost(row: HostRow, identity?: HostIdentity): Host {
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
      ...(identity === undefined ? {} : { identity }),
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
