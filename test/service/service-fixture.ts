// The service tier: a whole controller in this process on a real database (a SQLite file or
// a PostgreSQL database), with a manual clock, and with two parts stood in for because they
// are not what is under test here: Nix (the pipeline's evaluations and builds are scripted;
// the integration tier runs real Nix) and the agents (a recording channel plays each
// host's agent through the protocol's own messages).
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Controller,
  loadConfig,
  type ControllerServices,
  type FlakeHostsEvaluation,
  type NixAdapter,
  type RealiseResult,
  type ReleasePublisher,
} from '@flotilla/controller';
import type {
  ActivationPlan,
  ControllerMessage,
  DeployRequest,
  ErrorBody,
  Facts,
  Generation,
  PlanRequest,
  Role,
  TokenScope,
} from '@flotilla/protocol';
import { ManualClock } from '@flotilla/runtime';
import { pino, type Logger } from 'pino';
import { sql } from 'kysely';
import type { EmptyDatabase } from '@flotilla/controller/testing';

const NIX_HASH_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

/** A store path shaped like Nix's, the same for the same name. */
export function storePath(name: string): string {
  const digest = createHash('sha256').update(name).digest();
  const hash = [...digest.subarray(0, 32)].map((b) => NIX_HASH_ALPHABET[b % 32]).join('');
  return `/nix/store/${hash}-${name}`;
}

/**
 * Nix, scripted: `evaluate` says what each host's derivation is for the next revisions;
 * realising a derivation yields `<name>-out` unless the test made it fail.
 */
export class ScriptedNix implements NixAdapter {
  /** host → derivation name (without `.drv`), or an error text. */
  hosts: Record<string, string | { error: string }> = {};
  readonly failing = new Set<string>();
  readonly realised: string[] = [];
  /** Answers evaluations by flake URL instead of `hosts` (a test reading the commit itself). */
  evaluateWith: ((flakeUrl: string) => Promise<FlakeHostsEvaluation>) | undefined;

  async evaluateHosts(flakeUrl: string): Promise<FlakeHostsEvaluation> {
    if (this.evaluateWith) return this.evaluateWith(flakeUrl);
    const nixos: Record<string, string> = {};
    const hostErrors: Record<string, string> = {};
    for (const [host, value] of Object.entries(this.hosts)) {
      if (typeof value === 'string') nixos[host] = `${storePath(value)}.drv`;
      else hostErrors[host] = value.error;
    }
    return {
      nixos,
      hostErrors,
      hostErrorDetails: {},
      evaluatedPerHost: false,
      darwin: [],
      home: [],
    };
  }

  async realise(drvPath: string): Promise<RealiseResult> {
    this.realised.push(drvPath);
    if (this.failing.has(drvPath)) {
      return {
        ok: false,
        reason: 'failed',
        result: {
          exitCode: 1,
          signal: null,
          spawnError: null,
          timedOut: false,
          aborted: false,
          stdout: '',
          stdoutTruncated: false,
          stderr: 'error: builder failed',
          stderrTail: ['error: builder failed'],
        },
      };
    }
    return { ok: true, outPath: drvPath.replace(/\.drv$/, '-out') };
  }

  async closureSize(): Promise<number> {
    return 1_000_000;
  }
}

/**
 * A plan as an agent prepares it: against `current`, one package changed and one added,
 * one unit restarted and one started, no reboot. Tests override what they look at.
 */
export function samplePlan(storePath: string, current: string, at: Date): ActivationPlan {
  return {
    storePath,
    currentSystem: current,
    closure: {
      added: [{ name: 'nginx', from: [], to: ['1.24.0'], sizeDelta: 61_747 }],
      removed: [],
      changed: [{ name: 'hello', from: ['2.10'], to: ['2.12'], sizeDelta: 20_480 }],
      resized: [],
      truncated: false,
      sizeDelta: 82_227,
      closureSize: 1_000_000,
    },
    activation: {
      stop: [],
      start: ['metrics.service'],
      restart: ['sshd.service'],
      reload: [],
      skip: [],
      restartSystemd: false,
      other: [],
      exitCode: 0,
    },
    reboot: { required: false, changed: [], bootedSystem: current },
    fetched: true,
    timings: { fetchMs: 1200, diffMs: 40, dryActivateMs: 300, totalMs: 1600 },
    preparedAt: at.toISOString(),
  };
}

/** The agent of one host, played by the test: what it was sent, and its answers. */
export class AgentStandIn {
  readonly sent: ControllerMessage[] = [];
  closed: { code: number; reason: string } | null = null;
  generations: Generation[] = [];

  constructor(
    readonly host: string,
    private readonly fleet: ServiceFleet,
    public current: string,
  ) {}

  send(message: ControllerMessage): boolean {
    this.sent.push(message);
    return true;
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  /** The deploy requests it was sent, oldest first. */
  requests(): DeployRequest[] {
    return this.sent.filter((m): m is DeployRequest => m.type === 'deploy.request');
  }

  /** The plan requests it was sent, oldest first. */
  planRequests(): PlanRequest[] {
    return this.sent.filter((m): m is PlanRequest => m.type === 'plan.request');
  }

  /**
   * Answers the plan request for deployment `id`, as an agent does once it fetched the
   * closure: with a plan against the system it runs (see {@link samplePlan}), or an error.
   */
  async answerPlan(id: string, answer: Partial<ActivationPlan> | ErrorBody = {}): Promise<void> {
    const request = this.planRequests().find((r) => r.deploymentId === id);
    if (!request) throw new Error(`${this.host} was never asked for the plan of ${id}`);
    const isError = 'code' in answer;
    await this.fleet.services.plans.onResult(this.host, {
      type: 'plan.result',
      deploymentId: id,
      storePath: request.storePath,
      plan: isError
        ? null
        : { ...samplePlan(request.storePath, this.current, this.fleet.clock.now()), ...answer },
      error: isError ? answer : null,
    });
  }

  /**
   * The connection drops and the agent comes back: what the gateway does after a hello
   * (reconcile, dispatch, plans), then the facts it sends first.
   */
  async reconnect(features: string[] = ['plan']): Promise<void> {
    const { presence, runner, plans } = this.fleet.services;
    presence.disconnected(this.host, this, 'test');
    presence.connected(this.host, this, {
      version: '0.1.0',
      protocolVersion: 2,
      os: 'linux',
      features,
    });
    await runner.reconcile(this.host, { activeDeploymentId: null, unacknowledgedResults: [] });
    await runner.dispatchPending(this.host);
    await plans.refreshHost(this.host);
    await this.report();
  }

  facts(): Facts {
    return {
      hostname: this.host,
      os: 'linux',
      kernel: '6.6.0',
      osRelease: null,
      machineId: null,
      bootId: null,
      system: { current: this.current, booted: this.current, bootDefault: this.current },
      nixosVersion: null,
      configurationRevision: null,
      generations: this.generations,
      rebootRequired: false,
      failedUnits: null,
      metrics: {
        uptimeSeconds: 1,
        load: [0, 0, 0],
        memory: { totalBytes: 1, availableBytes: 1 },
        disks: [],
      },
      darwin: null,
      collectedAt: this.fleet.clock.now().toISOString(),
    };
  }

  /** Reports facts, as an agent does after a change (what the gateway does with them). */
  async report(): Promise<void> {
    const { presence, plans } = this.fleet.services;
    const before = presence.get(this.host)?.facts?.system.current;
    const facts = this.facts();
    presence.facts(this.host, facts);
    await plans.onFacts(this.host, before, facts);
    await presence.flush();
  }

  /** Plays the deployment `id` to its end: activates it, asks to be confirmed, reports. */
  async complete(
    id: string,
    outcome: 'succeeded' | 'rolled_back' | 'failed' = 'succeeded',
  ): Promise<void> {
    const { runner } = this.fleet.services;
    const request = this.requests().find((r) => r.deploymentId === id);
    if (!request) throw new Error(`${this.host} was never sent deployment ${id}`);
    const previous = this.current;
    if (outcome === 'succeeded') {
      await runner.onConfirmRequest(this.host, {
        type: 'deploy.confirm_request',
        deploymentId: id,
        health: [],
      });
      this.current = request.storePath;
    }
    await runner.onResult(this.host, {
      type: 'deploy.result',
      deploymentId: id,
      outcome,
      exitCode: outcome === 'failed' ? 2 : 0,
      error: outcome === 'succeeded' ? null : { code: 'activation_failed', message: 'exit 2' },
      currentSystem: this.current,
      previousSystem: previous,
      rollbackReason: outcome === 'rolled_back' ? 'switch-to-configuration exited 2' : null,
    });
    await this.report();
  }
}

export interface FleetOptions {
  /** The controller's JSON config (hosts, rollout, deployments …). */
  config?: object;
  /** The controller's logger; silent by default. */
  logger?: Logger;
  /** The cache's publisher; by default one that publishes nothing. */
  publisher?: ReleasePublisher;
}

/** The service tier's first admin's password. */
export const ADMIN_PASSWORD = 'correct horse battery staple';

/** A controller in this process on `database`, with scripted Nix and agent stand-ins. */
export class ServiceFleet {
  readonly agents = new Map<string, AgentStandIn>();
  readonly services: ControllerServices;
  private revisionCount = 0;
  private admin: string | undefined;

  private constructor(
    readonly dir: string,
    readonly controller: Controller,
    readonly clock: ManualClock,
    readonly nix: ScriptedNix,
  ) {
    this.services = controller.services;
  }

  static async start(database: EmptyDatabase, options: FleetOptions = {}): Promise<ServiceFleet> {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-service-'));
    const file = join(dir, 'controller.json');
    await writeFile(file, JSON.stringify({ databaseUrl: database.url, ...options.config }));
    const config = loadConfig(['--state-dir', join(dir, 'state')], { FLOTILLA_CONFIG: file });
    const nix = new ScriptedNix();
    const clock = new ManualClock('2026-03-02T10:00:00.000Z');
    const controller = await Controller.create({
      config,
      logger: options.logger ?? pino({ level: 'silent' }),
      clock,
      revisionPipeline: { onRevision: () => Promise.resolve() },
      parts: {
        nix,
        cache: {
          key: { name: 'test-1', secretKeyFile: '/nonexistent', publicKey: 'test-1:AAAA' },
          publisher: options.publisher ?? { publish: () => Promise.resolve() },
        },
      },
    });
    const fleet = new ServiceFleet(dir, controller, clock, nix);
    // The linked repository the revisions below belong to (no git: revisions are recorded
    // here directly, as a sync would record them), unless the config links a real one.
    if (!('repository' in (options.config ?? {}))) {
      const now = clock.now().toISOString();
      await sql`insert into repositories (id, url, branch, flake_dir, auth_kind, poll_interval_seconds, allow_force_push, source, created_at, updated_at)
        values ('default', '/nonexistent', 'main', '', 'none', 3600, 0, 'api', ${now}, ${now})`.execute(
        controller.services.store.db,
      );
    }
    await controller.services.pipeline.queue.start();
    return fleet;
  }

  /**
   * Registers a host and connects its agent stand-in, running `running`. It announces the
   * `plan` feature, as current agents do, unless `features` says otherwise.
   */
  async addHost(
    name: string,
    options: { mode?: 'managed' | 'monitor'; running?: string; features?: string[] } = {},
  ): Promise<AgentStandIn> {
    await this.services.hosts.register(
      { name, mode: options.mode ?? 'managed', enrollmentExpiresInSeconds: 3600 },
      'admin',
    );
    const agent = new AgentStandIn(name, this, options.running ?? storePath(`${name}-initial`));
    this.agents.set(name, agent);
    this.services.presence.connected(name, agent, {
      version: '0.1.0',
      protocolVersion: 2,
      os: 'linux',
      features: options.features ?? ['plan'],
    });
    await agent.report();
    return agent;
  }

  /**
   * The first admin, made as a person makes one (the one-time setup token), and an API
   * token of theirs with the admin scope.
   */
  async adminToken(): Promise<string> {
    if (this.admin === undefined) {
      const setupToken = this.controller.setupToken;
      if (setupToken === null) throw new Error('the controller printed no setup token');
      await this.services.users.setup({ setupToken, username: 'admin', password: ADMIN_PASSWORD });
      this.admin = await this.tokenOf('admin', ADMIN_PASSWORD, 'admin');
    }
    return this.admin;
  }

  /** A user with `role` (made by the admin) and an API token of theirs, of `scope` if given. */
  async userWithToken(
    username: string,
    role: Role,
    scope?: TokenScope,
  ): Promise<{ token: string; password: string }> {
    const admin = await this.services.tokens.authenticate(await this.adminToken());
    if (!admin) throw new Error('the admin token does not work');
    const password = `${username}-password-1`;
    await this.services.users.add({ username, role, password }, admin);
    return { token: await this.tokenOf(username, password, scope), password };
  }

  private async tokenOf(username: string, password: string, scope?: TokenScope): Promise<string> {
    const user = await this.services.auth.checkCredentials(
      { username, password },
      { address: '127.0.0.1', userAgent: 'service-fixture' },
    );
    const created = await this.services.tokens.create(
      user,
      { name: `${username}-${scope ?? 'default'}`, ...(scope ? { scope } : {}) },
      username,
    );
    return created.token;
  }

  agent(name: string): AgentStandIn {
    const agent = this.agents.get(name);
    if (!agent) throw new Error(`no agent ${name}`);
    return agent;
  }

  /**
   * A new commit of the branch: each host's derivation as given (unchanged hosts keep
   * theirs), evaluated and built; resolves once its releases are ready and offered.
   */
  async commit(hosts: Record<string, string | { error: string }>): Promise<string> {
    this.nix.hosts = { ...this.nix.hosts, ...hosts };
    this.revisionCount += 1;
    const n = this.revisionCount;
    const id = `rv${String(n).padStart(4, '0')}`;
    this.clock.advance(1000);
    await this.services.store.revisions.insertIfAbsent({
      id,
      repository_id: 'default',
      sha: createHash('sha1').update(id).digest('hex'),
      ref: 'refs/heads/main',
      kind: 'branch',
      message: `commit ${n}`,
      author: 'Ada',
      committed_at: this.clock.now().toISOString(),
      discovered_at: this.clock.now().toISOString(),
      status: 'pending',
      error_text: null,
      evaluation_json: null,
      evaluated_at: null,
      base_revision_id: null,
    });
    await this.services.pipeline.pipeline.onRevision(id);
    await this.settle();
    return id;
  }

  /**
   * Waits until the pipeline has evaluated, built and released everything it was given,
   * and the agents were asked for the plans of what waits.
   */
  async settle(): Promise<void> {
    await this.services.pipeline.pipeline.idle();
    await this.services.pipeline.queue.idle();
    await this.services.rollout.tick();
    await this.services.plans.idle();
  }

  async stop(): Promise<void> {
    await this.services.pipeline.queue.stop();
    await this.controller.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
