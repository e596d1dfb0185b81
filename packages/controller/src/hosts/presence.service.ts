import type { ControllerMessage, Facts, HostOs, Metrics } from '@flotilla/protocol';
import type { Logger } from 'pino';
import type { Clock } from '@flotilla/runtime';
import type { LiveEvents } from '../events/event-bus.js';
import type { EventRepository, NewEvent } from '../storage/event.repository.js';
import type { HostRepository, HostStateUpdate } from '../storage/host.repository.js';

/** The part of a connected agent's session that presence needs. */
export interface AgentChannel {
  send(message: ControllerMessage): boolean;
  close(code: number, reason: string): void;
}

/** Live state of one connected agent. Kept in memory; never written per heartbeat. */
export interface LiveHost {
  name: string;
  channel: AgentChannel;
  connectedAt: Date;
  lastHeartbeatMs: number;
  agentVersion: string;
  protocolVersion: number;
  /** What the agent announced it can do beyond its protocol version (e.g. `plan`). */
  features: readonly string[];
  facts: Facts | null;
  metrics: Metrics | null;
  /**
   * The http(s) base URL the agent reached this controller at (from its upgrade request),
   * used for the cache URL in its deploy requests; null when it could not be derived.
   */
  baseUrl: string | null;
  /** Set when something changed since the last snapshot. */
  dirty: boolean;
}

export interface PresenceOptions {
  hosts: HostRepository;
  events: EventRepository;
  /** Told about every host whose live state changed (`hosts.changed`). */
  live: LiveEvents;
  clock: Clock;
  logger: Logger;
  heartbeatIntervalSeconds: number;
  /** After this many missed heartbeats the connection is dropped and the host is offline. */
  missedHeartbeatsAllowed: number;
  snapshotIntervalSeconds: number;
  /** How often queued transitions are written (milliseconds). */
  flushIntervalMs?: number;
}

const FLUSH_BATCH = 500;

/**
 * Which agents are online, with their latest facts and metrics.
 *
 * Heartbeats only touch memory. Transitions (connect, disconnect, new facts) are queued
 * and written in batched transactions every `flushIntervalMs`; every
 * `snapshotIntervalSeconds` the last-seen time and metrics of busy hosts are written too.
 * A crash loses at most those few seconds of last-seen times, never a deployment.
 * Live events: a heartbeat (last seen, metrics) at once, since answers read it from memory;
 * a connect, disconnect or new facts once their batch is written.
 */
export class PresenceService {
  private readonly live = new Map<string, LiveHost>();
  private pendingUpdates = new Map<string, HostStateUpdate>();
  private pendingEvents: NewEvent[] = [];
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: PresenceOptions) {}

  start(): void {
    const {
      heartbeatIntervalSeconds,
      snapshotIntervalSeconds,
      flushIntervalMs = 250,
    } = this.options;
    this.timers.push(
      setInterval(() => this.sweep(), heartbeatIntervalSeconds * 1000),
      setInterval(() => this.snapshot(), snapshotIntervalSeconds * 1000),
      setInterval(() => void this.flush(), flushIntervalMs),
    );
    for (const timer of this.timers) timer.unref();
  }

  /** Stops timers and writes everything still queued, including final last-seen times. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.snapshot();
    await this.flush();
  }

  get onlineCount(): number {
    return this.live.size;
  }

  get(name: string): LiveHost | undefined {
    return this.live.get(name);
  }

  /** Names of online hosts after `cursor`, sorted, at most `limit`. */
  onlineNames(limit: number, cursor?: string): string[] {
    const names = [...this.live.keys()].filter((n) => cursor === undefined || n > cursor);
    names.sort();
    return names.slice(0, limit);
  }

  /** Sends a message to a host's agent; false when it is not connected. */
  send(name: string, message: ControllerMessage): boolean {
    return this.live.get(name)?.channel.send(message) ?? false;
  }

  connected(
    name: string,
    channel: AgentChannel,
    agent: {
      version: string;
      protocolVersion: number;
      os: HostOs;
      baseUrl?: string | null;
      features?: readonly string[];
    },
  ): void {
    const now = this.options.clock.now();
    const previous = this.live.get(name);
    if (previous) {
      // A second connection for the same host wins; the old one is a leftover.
      this.live.delete(name);
      previous.channel.close(4009, 'replaced by a newer connection');
    }
    this.live.set(name, {
      name,
      channel,
      connectedAt: now,
      lastHeartbeatMs: now.getTime(),
      agentVersion: agent.version,
      protocolVersion: agent.protocolVersion,
      features: agent.features ?? [],
      facts: null,
      metrics: null,
      baseUrl: agent.baseUrl ?? null,
      dirty: false,
    });
    this.queue(name, {
      agentVersion: agent.version,
      protocolVersion: agent.protocolVersion,
      os: agent.os,
      lastConnectedAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
    });
    this.pendingEvents.push({
      at: now.toISOString(),
      kind: 'host.online',
      actor: `agent:${name}`,
      hostName: name,
      data: { agentVersion: agent.version },
    });
  }

  /** Called when a connection ends. Ignores a channel that was already replaced. */
  disconnected(name: string, channel: AgentChannel, reason: string): void {
    const entry = this.live.get(name);
    if (!entry || entry.channel !== channel) return;
    this.live.delete(name);
    const at = new Date(entry.lastHeartbeatMs).toISOString();
    this.queue(
      name,
      entry.metrics ? { lastSeenAt: at, metrics: entry.metrics } : { lastSeenAt: at },
    );
    this.pendingEvents.push({
      at: this.options.clock.now().toISOString(),
      kind: 'host.offline',
      actor: `agent:${name}`,
      hostName: name,
      data: { reason },
    });
  }

  /**
   * Forgets a host that was removed: its connection is closed and nothing more is written
   * for it (its token no longer authenticates, so it cannot come back).
   */
  evict(name: string, reason: string): void {
    const entry = this.live.get(name);
    this.live.delete(name);
    this.pendingUpdates.delete(name);
    entry?.channel.close(4010, reason);
  }

  /**
   * Cuts a host's agent off at once (its key was revoked or replaced): it is offline from
   * now on, nothing more is sent to it, and its connection is closed with code 4011.
   * Returns whether it was connected.
   */
  cutOff(name: string, reason: string): boolean {
    const entry = this.live.get(name);
    if (!entry) return false;
    this.disconnected(name, entry.channel, reason);
    entry.channel.close(4011, reason);
    return true;
  }

  heartbeat(name: string, metrics: Metrics | undefined): void {
    const entry = this.live.get(name);
    if (!entry) return;
    entry.lastHeartbeatMs = this.options.clock.now().getTime();
    if (metrics) entry.metrics = metrics;
    entry.dirty = true;
    this.options.live.publish({ type: 'hosts.changed', names: [name] });
  }

  facts(name: string, facts: Facts): void {
    const entry = this.live.get(name);
    if (!entry) return;
    const now = this.options.clock.now();
    entry.facts = facts;
    entry.metrics = facts.metrics;
    entry.lastHeartbeatMs = now.getTime();
    this.queue(name, { facts, factsAt: now.toISOString(), lastSeenAt: now.toISOString() });
  }

  private queue(name: string, update: HostStateUpdate): void {
    this.pendingUpdates.set(name, { ...this.pendingUpdates.get(name), ...update });
  }

  /** Drops connections whose heartbeats stopped (run by a timer; public for tests). */
  sweep(): void {
    const { heartbeatIntervalSeconds, missedHeartbeatsAllowed } = this.options;
    const deadline =
      this.options.clock.now().getTime() -
      heartbeatIntervalSeconds * 1000 * missedHeartbeatsAllowed;
    for (const entry of [...this.live.values()]) {
      if (entry.lastHeartbeatMs < deadline) {
        this.options.logger.warn({ host: entry.name }, 'agent missed heartbeats; dropping it');
        this.disconnected(entry.name, entry.channel, 'heartbeat_timeout');
        entry.channel.close(4008, 'heartbeat timeout');
      }
    }
  }

  private snapshot(): void {
    for (const entry of this.live.values()) {
      if (!entry.dirty) continue;
      entry.dirty = false;
      const lastSeenAt = new Date(entry.lastHeartbeatMs).toISOString();
      this.queue(
        entry.name,
        entry.metrics ? { lastSeenAt, metrics: entry.metrics } : { lastSeenAt },
      );
    }
  }

  /**
   * Writes queued updates in transactions of at most FLUSH_BATCH rows, yielding to the
   * event loop between them so that a burst (10,000 agents reconnecting) never stalls
   * API requests for long.
   */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      while (this.pendingUpdates.size > 0 || this.pendingEvents.length > 0) {
        const batch = new Map<string, HostStateUpdate>();
        for (const [name, update] of this.pendingUpdates) {
          batch.set(name, update);
          this.pendingUpdates.delete(name);
          if (batch.size >= FLUSH_BATCH) break;
        }
        const events = this.pendingEvents.splice(0, FLUSH_BATCH);
        try {
          await this.options.hosts.applyStateUpdates(batch);
          await this.options.events.append(events);
          if (batch.size > 0)
            this.options.live.publish({ type: 'hosts.changed', names: [...batch.keys()] });
        } catch (error) {
          this.options.logger.error({ err: error }, 'writing host state failed; will retry');
          for (const [name, update] of batch) {
            this.pendingUpdates.set(name, { ...update, ...this.pendingUpdates.get(name) });
          }
          this.pendingEvents.unshift(...events);
          return;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    return this.flushing;
  }
}
