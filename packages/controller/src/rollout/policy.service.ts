import {
  FlotillaError,
  type GraduationList,
  type GraduationStatus,
  type HostPolicy,
  type HostPolicyList,
  type Policy,
} from '@flotilla/protocol';
import type { NotificationEvent } from '../notifications/notification.service.js';
import type { Clock } from '@flotilla/runtime';
import type { ControllerConfig, GraduationCriteria } from '../config.js';
import type { EventRepository } from '../storage/event.repository.js';
import type { HostRepository } from '../storage/host.repository.js';
import type { HostPolicyRow, PolicyRepository } from '../storage/policy.repository.js';

const DAY_MS = 86_400_000;

export interface PolicyServiceOptions {
  policies: PolicyRepository;
  hosts: HostRepository;
  events: EventRepository;
  config: Pick<ControllerConfig, 'hosts' | 'rollout'>;
  clock: Clock;
  /** Tells people (webhook, ntfy); never waits on the network. */
  notify?: (event: NotificationEvent) => Promise<void>;
}

/**
 * Per-host policies (`manual` by default), pins, and graduation. A policy declared in the
 * config file is locked against API changes; a safety demotion still applies to it.
 */
export class PolicyService {
  constructor(private readonly options: PolicyServiceOptions) {}

  waveOf(host: string): { index: number; name: string } | null {
    const index = this.options.config.rollout.waves.findIndex((w) => w.hosts.includes(host));
    const wave = this.options.config.rollout.waves[index];
    return wave ? { index, name: wave.name } : null;
  }

  /** The host's policy row, created on first use from the config or the default. */
  async row(host: string): Promise<HostPolicyRow> {
    const { policies, clock } = this.options;
    const declared = this.options.config.hosts[host]?.policy;
    const existing = await policies.find(host);
    if (existing) {
      // The config decides while it owns the host, except after a safety demotion.
      if (
        declared &&
        existing.source !== 'demoted' &&
        (existing.policy !== declared || existing.source !== 'config')
      ) {
        await policies.update(host, {
          policy: declared,
          source: 'config',
          updated_at: clock.now().toISOString(),
          updated_by: 'config',
        });
        return (await policies.find(host)) ?? existing;
      }
      return existing;
    }
    const registered = await this.options.hosts.findByName(host);
    const now = clock.now().toISOString();
    await policies.ensure({
      host_name: host,
      policy: declared ?? (registered?.mode === 'monitor' ? 'monitor' : 'manual'),
      source: declared ? 'config' : 'default',
      stable_since: registered?.created_at ?? now,
      updated_at: now,
      updated_by: declared ? 'config' : 'default',
    });
    const created = await policies.find(host);
    if (!created) throw new Error(`policy row for ${host} vanished`);
    return created;
  }

  async get(host: string): Promise<HostPolicy> {
    if (!(await this.options.hosts.findByName(host)))
      throw new FlotillaError('host_not_found', `no host named "${host}"`);
    return this.view(await this.row(host));
  }

  async list(): Promise<HostPolicyList> {
    const names = await this.options.hosts.allNames();
    return {
      policies: await Promise.all(names.map(async (name) => this.view(await this.row(name)))),
    };
  }

  async set(host: string, policy: Policy, actor: string, reason?: string): Promise<HostPolicy> {
    const current = await this.row((await this.get(host)).host);
    if (current.source === 'config') {
      throw new FlotillaError(
        'policy_locked',
        `the policy of "${host}" is set in the controller's config file; change it there`,
      );
    }
    const registered = await this.options.hosts.findByName(host);
    if (registered?.mode === 'monitor' && policy !== 'monitor') {
      throw new FlotillaError(
        'host_not_managed',
        `host "${host}" is monitor-only; its policy stays monitor`,
      );
    }
    const now = this.options.clock.now().toISOString();
    await this.options.policies.update(host, {
      policy,
      source: 'api',
      updated_at: now,
      updated_by: actor,
    });
    const kind =
      current.policy !== 'auto' && policy === 'auto' ? 'host.promoted' : 'policy.changed';
    await this.options.events.append([
      {
        at: now,
        kind,
        actor,
        hostName: host,
        data: { from: current.policy, to: policy, reason: reason ?? null },
      },
    ]);
    return this.get(host);
  }

  async pin(host: string, actor: string, reason: string): Promise<HostPolicy> {
    await this.get(host);
    const now = this.options.clock.now().toISOString();
    await this.options.policies.update(host, { pinned: 1, pin_reason: reason });
    await this.options.events.append([
      { at: now, kind: 'host.pinned', actor, hostName: host, data: { reason } },
    ]);
    return this.get(host);
  }

  async unpin(host: string, actor: string, reason?: string): Promise<HostPolicy> {
    await this.get(host);
    const now = this.options.clock.now().toISOString();
    await this.options.policies.update(host, { pinned: 0, pin_reason: null });
    await this.options.events.append([
      { at: now, kind: 'host.unpinned', actor, hostName: host, data: { reason: reason ?? null } },
    ]);
    return this.get(host);
  }

  /**
   * A failed deployment or a rollback restarts the host's stable period, and an `auto`
   * host goes back to `manual`, with the reason recorded.
   */
  async onTrouble(host: string, reason: string, deploymentId: string): Promise<void> {
    const row = await this.row(host);
    const now = this.options.clock.now().toISOString();
    await this.options.policies.update(host, { stable_since: now, eligible_notified_at: null });
    if (row.policy !== 'auto') return;
    await this.options.policies.update(host, {
      policy: 'manual',
      source: 'demoted',
      updated_at: now,
      updated_by: 'policy',
    });
    await this.options.events.append([
      {
        at: now,
        kind: 'host.demoted',
        actor: 'policy',
        hostName: host,
        deploymentId,
        data: { from: 'auto', to: 'manual', reason },
      },
    ]);
    await this.options.notify?.({
      kind: 'host.demoted',
      host,
      summary: `${host} was demoted to manual: ${reason}`,
      data: { deploymentId },
    });
  }

  criteriaFor(host: string): GraduationCriteria | null {
    const own = this.options.config.hosts[host]?.graduation;
    if (own) return own;
    const wave = this.waveOf(host);
    return wave ? (this.options.config.rollout.waves[wave.index]?.graduation ?? null) : null;
  }

  async graduation(): Promise<GraduationList> {
    const names = await this.options.hosts.allNames();
    const rows = new Map<string, HostPolicyRow>();
    for (const name of names) rows.set(name, await this.row(name));
    const hosts = names.map((name) => this.graduationOf(name, rows));
    for (const status of hosts) {
      const row = rows.get(status.host);
      if (status.eligible && row && row.eligible_notified_at === null) {
        // Propose once per stable period; a human decides.
        void this.options.policies.update(status.host, {
          eligible_notified_at: this.options.clock.now().toISOString(),
        });
        void this.options.notify?.({
          kind: 'graduation.eligible',
          host: status.host,
          summary: `${status.host} may be promoted to auto (flotilla policy ${status.host} auto)`,
        });
      }
    }
    return { hosts };
  }

  private graduationOf(host: string, rows: Map<string, HostPolicyRow>): GraduationStatus {
    const row = rows.get(host);
    const criteria = this.criteriaFor(host);
    const now = this.options.clock.now().getTime();
    const stableDays = row?.stable_since ? (now - Date.parse(row.stable_since)) / DAY_MS : null;
    const requiredDays = criteria?.stableDays ?? null;
    const after = criteria?.after ?? [];
    const reasons: string[] = [];
    if (!row || row.policy !== 'manual')
      reasons.push(`policy is ${row?.policy ?? 'unknown'}, not manual`);
    if (row?.pinned) reasons.push('pinned');
    if (!criteria) reasons.push('no graduation criteria configured');
    if (requiredDays !== null && (stableDays ?? 0) < requiredDays) {
      reasons.push(`stable ${(stableDays ?? 0).toFixed(1)} of ${requiredDays} days`);
    }
    for (const other of after) {
      if (rows.get(other)?.policy !== 'auto') reasons.push(`${other} is not on auto yet`);
    }
    return {
      host,
      policy: row?.policy ?? 'manual',
      stableSince: row?.stable_since ?? null,
      stableDays: stableDays === null ? null : Math.floor(stableDays * 10) / 10,
      requiredDays,
      after,
      eligible: reasons.length === 0,
      reasons,
    };
  }

  private view(row: HostPolicyRow): HostPolicy {
    return {
      host: row.host_name,
      policy: row.policy,
      source: row.source === 'demoted' ? 'api' : row.source,
      locked: row.source === 'config',
      stableSince: row.stable_since,
      pinned: row.pinned === 1,
      pinReason: row.pin_reason,
      wave: this.waveOf(row.host_name)?.name ?? null,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    };
  }
}
