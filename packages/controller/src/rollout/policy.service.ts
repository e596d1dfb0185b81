import {
  FlotillaError,
  WAITING_DEPLOYMENT_STATUSES,
  type GraduationList,
  type GraduationStatus,
  type HostPolicy,
  type HostPolicyList,
  type SetPolicyRequest,
} from '@flotilla/protocol';
import type { Clock } from '@flotilla/runtime';
import type { DeploymentTransitions } from '../deployments/deployment.transitions.js';
import type { LiveEvents } from '../events/event-bus.js';
import type { Notifier } from '../notifications/notification.service.js';
import type { HostRow } from '../storage/host.repository.js';
import type { HostPolicyRow } from '../storage/policy.repository.js';
import type { Store } from '../storage/store.js';
import { graduationOf, type GraduationInput } from './graduation.js';
import { pinHost, policyRow, unpinHost } from './policy.writes.js';
import { criteriaFor, waveOf, type RolloutConfig } from './waves.js';

export interface PolicyServiceOptions {
  store: Store;
  transitions: DeploymentTransitions;
  notifier: Notifier;
  /** Told about policy, mode, pin and graduation changes (`hosts.changed`). */
  live: LiveEvents;
  config: RolloutConfig;
  clock: Clock;
}

/**
 * Per-host policies and pins, and graduation. A host is `managed` or `monitor` (its mode);
 * a managed host is `manual` (the default) or `auto`. `auto` must be earned (graduation) or
 * forced with a reason. A policy declared in the config file is locked against API changes;
 * a safety demotion still applies to it.
 */
export class PolicyService {
  constructor(private readonly options: PolicyServiceOptions) {}

  /**
   * Makes the stored policies agree with the config file (at start): declared policies are
   * locked, `monitor` in the config makes the host monitor-only, and a host whose
   * declaration was removed is unlocked.
   */
  async applyConfig(): Promise<void> {
    const { store, config, clock } = this.options;
    await store.transaction(async (tx) => {
      for (const host of await tx.hosts.allNames()) {
        const declared = config.hosts[host]?.policy;
        const row = await policyRow(tx, clock, host);
        const now = clock.now().toISOString();
        if (declared === undefined) {
          if (row.source === 'config' || row.source === 'demoted')
            await tx.policies.update(host, {
              source: 'api',
              updated_at: now,
              updated_by: 'config',
            });
          continue;
        }
        if (declared === 'monitor') {
          await tx.hosts.setMode(host, 'monitor');
          if (row.source !== 'config')
            await tx.policies.update(host, {
              source: 'config',
              updated_at: now,
              updated_by: 'config',
            });
          continue;
        }
        // A safety demotion holds until a person changes the config or promotes by hand.
        if (row.source === 'demoted') continue;
        if (row.policy !== declared || row.source !== 'config')
          await tx.policies.update(host, {
            policy: declared,
            source: 'config',
            updated_at: now,
            updated_by: 'config',
          });
      }
    });
  }

  async get(host: string): Promise<HostPolicy> {
    const { store } = this.options;
    const row = await this.requireHost(host);
    return this.view(row, await store.policies.find(host));
  }

  async list(): Promise<HostPolicyList> {
    const { store } = this.options;
    const hosts = await store.hosts.findByNames(await store.hosts.allNames());
    const rows = new Map((await store.policies.all()).map((r) => [r.host_name, r]));
    return { policies: hosts.map((h) => this.view(h, rows.get(h.name))) };
  }

  async set(host: string, request: SetPolicyRequest, actor: string): Promise<HostPolicy> {
    const { store, clock, config } = this.options;
    const hostRow = await this.requireHost(host);
    const current = this.view(hostRow, await store.policies.find(host));
    if (current.locked) {
      throw new FlotillaError(
        'policy_locked',
        `the policy of "${host}" is set in the controller's config file; change it there`,
      );
    }
    if (request.policy === 'auto' && current.policy !== 'auto') {
      const graduation = (await this.graduation()).hosts.find((g) => g.host === host);
      if (!graduation?.eligible && !request.force) {
        throw new FlotillaError(
          'graduation_required',
          `"${host}" has not earned auto: ${graduation?.reasons.join('; ') ?? 'unknown'}; promote it anyway with --force --reason "…"`,
          { reasons: graduation?.reasons ?? [] },
        );
      }
    }
    await store.transaction(async (tx) => {
      const now = clock.now().toISOString();
      this.hostChanged(tx, host);
      await policyRow(tx, clock, host);
      if (request.policy === 'monitor') {
        await tx.hosts.setMode(host, 'monitor');
        await this.cancelWaiting(tx, host, actor, 'the host became monitor-only');
      } else {
        if (hostRow.mode === 'monitor') await tx.hosts.setMode(host, 'managed');
        await tx.policies.update(host, {
          policy: request.policy,
          source: 'api',
          updated_at: now,
          updated_by: actor,
        });
      }
      const promoted = current.policy !== 'auto' && request.policy === 'auto';
      await tx.events.append([
        {
          at: now,
          kind: promoted ? 'host.promoted' : 'policy.changed',
          actor,
          hostName: host,
          data: {
            from: current.policy,
            to: request.policy,
            reason: request.reason ?? null,
            forced: promoted && request.force === true,
            wave: waveOf(config, host)?.wave.name ?? null,
          },
        },
      ]);
    });
    return this.get(host);
  }

  async pin(host: string, actor: string, reason: string): Promise<HostPolicy> {
    await this.requireHost(host);
    await this.options.store.transaction((tx) => {
      this.hostChanged(tx, host);
      return pinHost(tx, this.options.clock, host, actor, { reason });
    });
    return this.get(host);
  }

  async unpin(host: string, actor: string, reason?: string): Promise<HostPolicy> {
    await this.requireHost(host);
    await this.options.store.transaction((tx) => {
      this.hostChanged(tx, host);
      return unpinHost(tx, this.options.clock, host, actor, reason ?? null);
    });
    return this.get(host);
  }

  /** Each host's progress towards `auto`. Reads only: telling people is the watcher's job. */
  async graduation(): Promise<GraduationList> {
    const { store, config, clock } = this.options;
    const hosts = await store.hosts.findByNames(await store.hosts.allNames());
    const rows = new Map((await store.policies.all()).map((r) => [r.host_name, r]));
    const inputs = new Map(
      hosts.map((host): [string, GraduationInput] => {
        const view = this.view(host, rows.get(host.name));
        return [
          host.name,
          {
            host: host.name,
            policy: view.policy,
            pinned: view.pinned,
            stableSince: view.stableSince,
            policySince: view.updatedAt,
          },
        ];
      }),
    );
    return {
      hosts: [...inputs.values()].map((input): GraduationStatus =>
        graduationOf(
          input,
          criteriaFor(config, input.host),
          (name) => inputs.get(name),
          clock.now(),
        ),
      ),
    };
  }

  /**
   * Tells people once per stable period that a host may be promoted (run periodically by
   * the graduation watcher; never from a read).
   */
  async announceEligible(): Promise<string[]> {
    const { store, clock, notifier } = this.options;
    const announced: string[] = [];
    for (const status of (await this.graduation()).hosts) {
      if (!status.eligible) continue;
      const done = await store.transaction(async (tx) => {
        const row = await tx.policies.find(status.host);
        if (!row || row.eligible_notified_at !== null) return false;
        this.hostChanged(tx, status.host);
        await tx.policies.update(status.host, {
          eligible_notified_at: clock.now().toISOString(),
        });
        await notifier.queue(tx, {
          kind: 'graduation.eligible',
          host: status.host,
          summary: `${status.host} may be promoted to auto (flotilla policy ${status.host} auto)`,
        });
        return true;
      });
      if (done) announced.push(status.host);
    }
    return announced;
  }

  private async cancelWaiting(tx: Store, host: string, actor: string, why: string): Promise<void> {
    const now = this.options.clock.now().toISOString();
    for (const row of await tx.deployments.forHost(host, WAITING_DEPLOYMENT_STATUSES)) {
      await this.options.transitions.apply(tx, row, {
        to: 'cancelled',
        changes: { finished_at: now, hold_reason: null, error_message: why },
        note: `cancelled: ${why}`,
        audit: { kind: 'deployment.cancelled', actor, data: { reason: why } },
      });
    }
  }

  private hostChanged(tx: Store, host: string): void {
    this.options.live.publish({ type: 'hosts.changed', names: [host] }, tx);
  }

  private async requireHost(host: string): Promise<HostRow> {
    const row = await this.options.store.hosts.findByName(host);
    if (!row) throw new FlotillaError('host_not_found', `no host named "${host}"`);
    return row;
  }

  private view(host: HostRow, row: HostPolicyRow | undefined): HostPolicy {
    const declared = this.options.config.hosts[host.name]?.policy;
    const locked = row?.source === 'config' || declared === 'monitor';
    return {
      host: host.name,
      mode: host.mode,
      policy: host.mode === 'monitor' ? 'monitor' : (row?.policy ?? 'manual'),
      source: locked ? 'config' : row?.source === 'default' || !row ? 'default' : 'api',
      locked,
      stableSince: row?.stable_since ?? null,
      pinned: row?.pinned === 1,
      pinReason: row?.pin_reason ?? null,
      wave: waveOf(this.options.config, host.name)?.wave.name ?? null,
      updatedAt: row?.updated_at ?? host.created_at,
      updatedBy: row?.updated_by ?? 'default',
    };
  }
}
