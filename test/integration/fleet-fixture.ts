import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FINAL_DEPLOYMENT_STATUSES,
  type CacheInfo,
  type CreateHostResponse,
  type Deployment,
  type DeploymentDecision,
  type ErrorBody,
  type HealthCheck,
  type Host,
  type HostList,
} from '@flotilla/protocol';
import {
  installInitialSystem,
  JsonClient,
  nixAvailable,
  signStorePath,
  startAgent,
  startController,
  type AgentHandle,
  type ControllerHandle,
} from '@flotilla/sandbox';

export interface AgentOptions {
  agentMode?: 'managed' | 'monitor';
  extraArgs?: string[];
  /** Runs the agent through this command, e.g. `ip netns exec NAME`. */
  commandPrefix?: string[];
  /** A system the host already runs before the agent starts (its first generation). */
  initialSystem?: string;
  /** Health checks in the agent's own config. */
  healthChecks?: HealthCheck[];
  /** The controller URL the agent enrolls at (default: the controller's own). */
  controllerUrl?: string;
  /** Another URL of the agent gateway to dial (e.g. wss:// through a TLS proxy). */
  gatewayUrl?: string;
  /** Extra `--trusted-public-key`s besides the controller's cache key. */
  extraTrustedKeys?: string[];
  /** Added to the agent's environment (e.g. `NIX_CONFIG` with a store of its own). */
  env?: NodeJS.ProcessEnv;
  /** A sandboxed Mac: the agent reports as macOS, in monitor mode (see the sandbox's `mac.ts`). */
  mac?: boolean;
}

/** A controller, its API client and the agents started against it, all under one temp dir. */
export class FleetFixture {
  readonly agents = new Map<string, AgentHandle>();
  /** The enrollment token each host was registered with (what its agent enrolls with). */
  readonly tokens = new Map<string, string>();
  private constructor(
    readonly dir: string,
    public controller: ControllerHandle,
    public api: JsonClient,
    private readonly env: NodeJS.ProcessEnv,
    /** The controller's cache key: what every agent's config trusts. */
    readonly cacheKey: string,
  ) {}

  /**
   * Starts a controller in a fresh temp dir. `config` (the controller's JSON config) may be
   * a function of that dir, for paths inside it; `env` is added to the controller's
   * environment (e.g. FLOTILLA_DATABASE_URL), also when it is restarted.
   */
  static async start(
    name: string,
    options: {
      config?: (dir: string) => Promise<object> | object;
      listen?: string;
      env?: NodeJS.ProcessEnv;
    } = {},
  ): Promise<FleetFixture> {
    if (!(await nixAvailable())) {
      throw new Error(
        'nix is not installed: run `npm test`, which installs it, or apt-get install nix-bin',
      );
    }
    const dir = await mkdtemp(join(tmpdir(), `flotilla-${name}-`));
    const env: NodeJS.ProcessEnv = { ...options.env };
    if (options.config) {
      const file = join(dir, 'controller.json');
      await writeFile(file, JSON.stringify(await options.config(dir)));
      env.FLOTILLA_CONFIG = file;
    }
    const controller = await startController({
      stateDir: join(dir, 'controller'),
      env,
      ...(options.listen ? { listen: options.listen } : {}),
    });
    const api = new JsonClient(controller.url, controller.adminToken);
    const cache = await api.get<CacheInfo>('/api/v1/cache');
    if (cache.status !== 200) throw new Error(`GET /api/v1/cache: ${JSON.stringify(cache.body)}`);
    return new FleetFixture(dir, controller, api, env, cache.body.publicKey);
  }

  /** Registers a host through the API and returns its one-time enrollment token. */
  async register(name: string, mode: 'managed' | 'monitor' = 'managed'): Promise<string> {
    const response = await this.api.post<CreateHostResponse>('/api/v1/hosts', { name, mode });
    if (response.status !== 201)
      throw new Error(`registering ${name}: ${JSON.stringify(response.body)}`);
    this.tokens.set(name, response.body.enrollment.token);
    return response.body.enrollment.token;
  }

  /** The controller's signing key file (what it signs releases with). */
  get signingKeyFile(): string {
    return join(this.controller.stateDir, 'cache', 'signing-key.sec');
  }

  /** Registers a host, starts its agent and waits until the controller sees it online. */
  async addAgent(
    name: string,
    options: AgentOptions & { mode?: 'managed' | 'monitor' } = {},
  ): Promise<AgentHandle> {
    await this.register(name, options.mode);
    if (options.initialSystem) {
      await installInitialSystem(join(this.dir, 'hosts', name), options.initialSystem);
    }
    const agent = await this.launchAgent(name, {
      ...options,
      agentMode: options.agentMode ?? options.mode,
    });
    await this.waitForHost(name, (h) => h.status === 'online' && h.facts !== null);
    return agent;
  }

  /**
   * Starts (again) the agent of a registered host. It enrolls with the token the host got at
   * registration the first time, and proves the key it made then on every later start.
   */
  async launchAgent(name: string, options: AgentOptions = {}): Promise<AgentHandle> {
    const token = this.tokens.get(name);
    if (token === undefined) throw new Error(`host ${name} was not added through the fixture`);
    const agent = await startAgent({
      host: name,
      controllerUrl: options.controllerUrl ?? this.controller.url,
      ...(options.gatewayUrl ? { gatewayUrl: options.gatewayUrl } : {}),
      enrollmentToken: token,
      trustedPublicKeys: [this.cacheKey, ...(options.extraTrustedKeys ?? [])],
      ...(options.healthChecks ? { healthChecks: options.healthChecks } : {}),
      root: join(this.dir, 'hosts', name),
      mode: options.agentMode ?? 'managed',
      extraArgs: options.extraArgs,
      commandPrefix: options.commandPrefix,
      ...(options.env ? { env: options.env } : {}),
      ...(options.mac ? { mac: true } : {}),
    });
    this.agents.set(name, agent);
    return agent;
  }

  /**
   * Asks for a deployment (`POST /api/v1/deployments`) and answers like a plain post, with
   * the created deployment as the body on success (the decision's notes in `notes`). A store
   * path given is signed with the controller's key first, as every release is: agents
   * activate only what their trusted keys signed.
   */
  async deploy(body: Record<string, unknown>): Promise<DecisionAnswer> {
    const { storePath } = body;
    // A made-up path that is not in the store has nothing to sign (the test wants a refusal).
    if (typeof storePath === 'string' && (await pathExists(storePath))) {
      await signStorePath(storePath, this.signingKeyFile);
    }
    const response = await this.api.post<DeploymentDecision>('/api/v1/deployments', body);
    return decisionAnswer(response);
  }

  /** `POST /api/v1/hosts/:name/rollback`, answered like {@link deploy}. */
  async rollback(host: string, body: object = {}): Promise<DecisionAnswer> {
    const response = await this.api.post<DeploymentDecision>(
      `/api/v1/hosts/${host}/rollback`,
      body,
    );
    return decisionAnswer(response);
  }

  async host(name: string): Promise<Host> {
    const response = await this.api.get<Host>(`/api/v1/hosts/${name}`);
    if (response.status !== 200)
      throw new Error(`GET host ${name}: ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async hosts(): Promise<HostList> {
    return (await this.api.get<HostList>('/api/v1/hosts')).body;
  }

  waitForHost(name: string, test: (host: Host) => boolean, timeoutMs = 30_000): Promise<Host> {
    return JsonClient.until(
      async () => {
        const host = await this.host(name);
        return test(host) ? host : undefined;
      },
      `host ${name} to reach the expected state`,
      timeoutMs,
    );
  }

  /** Polls a deployment until it reaches a final status. */
  waitForDeployment(
    id: string,
    timeoutMs = 60_000,
  ): Promise<Deployment & { log: { line: string }[] }> {
    return JsonClient.until(
      async () => {
        const response = await this.api.get<Deployment & { log: { line: string }[] }>(
          `/api/v1/deployments/${id}`,
        );
        return FINAL_DEPLOYMENT_STATUSES.has(response.body.status) ? response.body : undefined;
      },
      `deployment ${id} to finish`,
      timeoutMs,
    );
  }

  /**
   * Kills the controller (SIGKILL, as in a crash) and starts it again on the same port and
   * state directory, so agents reconnect to the same URL.
   */
  async crashAndRestartController(): Promise<void> {
    await this.controller.process.kill();
    await this.startControllerAgain();
  }

  /**
   * Stops the controller as a service manager does (SIGTERM, SIGKILL only after 5 s) and
   * starts it again on the same port and state directory; returns the stopped one's exit
   * code (null when it had to be killed).
   */
  async restartController(): Promise<number | null> {
    const exitCode = await this.controller.process.stop();
    await this.startControllerAgain();
    return exitCode;
  }

  /** Stops the controller as a service manager does; {@link startControllerAgain} brings it back. */
  async stopController(): Promise<void> {
    await this.controller.process.stop();
  }

  /** Starts the (stopped) controller again on the same port and state directory. */
  async startControllerAgain(): Promise<void> {
    const port = new URL(this.controller.url).port;
    this.controller = await startController({
      stateDir: this.controller.stateDir,
      listen: `127.0.0.1:${port}`,
      env: this.env,
    });
    this.api = new JsonClient(this.controller.url, this.controller.adminToken);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.process.stop()));
    await this.controller.process.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * A deploy or rollback answer: the created deployment as the body (201), or the error
 * answer's body (`error.code`) otherwise.
 */
export interface DecisionAnswer {
  status: number;
  body: Deployment & { error: ErrorBody };
  notes: string[];
}

/** A decision answer as a plain one: the deployment as the body when it was created. */
export function decisionAnswer(response: {
  status: number;
  body: DeploymentDecision;
}): DecisionAnswer {
  if (response.status === 201) {
    return {
      status: 201,
      body: response.body.deployment as Deployment & { error: ErrorBody },
      notes: response.body.notes,
    };
  }
  // An error answer: keep its body as it is, so tests can read `error.code`.
  return {
    status: response.status,
    body: response.body as unknown as Deployment & { error: ErrorBody },
    notes: [],
  };
}
