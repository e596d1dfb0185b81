import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Repository, Revision, RevisionList } from '@flotilla/protocol';
import {
  GitFlakeRepo,
  JsonClient,
  startController,
  type ControllerHandle,
} from '@flotilla/sandbox';
import Database from 'better-sqlite3';

/** What the controller's database holds of the repository's history. */
export interface StoredHistory {
  revisions: number;
  /** Events about the repository and discovered revisions (the pipeline writes its own). */
  events: number;
  forcePushes: { from: string; to: string; followed: boolean }[];
}

/**
 * A bare repository standing in for GitHub, with a working clone, and a real controller
 * process whose config (if any) links it. Everything lives under one temp directory.
 */
export class RepositoryFixture {
  private constructor(
    readonly dir: string,
    readonly github: GitFlakeRepo,
    public controller: ControllerHandle,
    public api: JsonClient,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Starts a controller; `config` becomes its config file (FLOTILLA_CONFIG). The repository
   * starts with one pushed commit, "first".
   */
  static async start(
    name: string,
    config: (github: GitFlakeRepo, dir: string) => Promise<Record<string, unknown>>,
    env: NodeJS.ProcessEnv = {},
  ): Promise<RepositoryFixture> {
    const dir = await mkdtemp(join(tmpdir(), `flotilla-${name}-`));
    const github = await GitFlakeRepo.create(join(dir, 'github'));
    await writeFile(join(github.work, 'flake.nix'), '{ outputs = _: { }; }\n');
    await github.commit('first');
    await github.push();
    const configFile = join(dir, 'controller.json');
    await writeFile(configFile, JSON.stringify(await config(github, dir)));
    const fullEnv = { ...env, FLOTILLA_CONFIG: configFile };
    const controller = await startController({ stateDir: join(dir, 'state'), env: fullEnv });
    return new RepositoryFixture(
      dir,
      github,
      controller,
      new JsonClient(controller.url, controller.adminToken),
      fullEnv,
    );
  }

  /** Writes a file in the working clone and commits it; returns the sha. */
  async commitFile(path: string, content: string, message: string): Promise<string> {
    await writeFile(join(this.github.work, path), content);
    return this.github.commit(message);
  }

  async repository(): Promise<Repository> {
    const response = await this.api.get<Repository>('/api/v1/repository');
    if (response.status !== 200)
      throw new Error(`GET repository: ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async revisions(kind?: 'branch' | 'preview'): Promise<Revision[]> {
    const query = kind === undefined ? '' : `?kind=${kind}`;
    const response = await this.api.get<RevisionList>(`/api/v1/revisions${query}`);
    if (response.status !== 200) throw new Error(`GET revisions: ${JSON.stringify(response.body)}`);
    return response.body.revisions;
  }

  /** Reads the controller's SQLite database directly (WAL mode allows a second reader). */
  stored(): StoredHistory {
    const db = new Database(join(this.controller.stateDir, 'flotilla.db'), {
      readonly: true,
      fileMustExist: true,
    });
    try {
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      const forcePushes = (
        db
          .prepare("select data_json from events where kind = 'repository.force_push' order by id")
          .all() as { data_json: string }[]
      ).map((row) => JSON.parse(row.data_json) as StoredHistory['forcePushes'][number]);
      return {
        revisions: count('select count(*) as n from revisions'),
        events: count(
          "select count(*) as n from events where kind like 'repository.%' or kind = 'revision.discovered'",
        ),
        forcePushes,
      };
    } finally {
      db.close();
    }
  }

  /** How often a webhook delivery id is stored. */
  deliveries(id: string): number {
    const db = new Database(join(this.controller.stateDir, 'flotilla.db'), {
      readonly: true,
      fileMustExist: true,
    });
    try {
      const row = db.prepare('select count(*) as n from webhook_deliveries where id = ?').get(id);
      return (row as { n: number }).n;
    } finally {
      db.close();
    }
  }

  /**
   * Sends a webhook delivery; signs the body with `secret` unless a signature is given. Each
   * delivery has a new `X-GitHub-Delivery` id unless one is given (a replay).
   */
  webhook(
    event: string,
    body: string,
    signature: { secret: string } | { header: string } | undefined,
    delivery: string = randomUUID(),
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {
      'x-github-event': event,
      'x-github-delivery': delivery,
    };
    if (signature !== undefined) {
      headers['x-hub-signature-256'] =
        'header' in signature
          ? signature.header
          : `sha256=${createHmac('sha256', signature.secret).update(body).digest('hex')}`;
    }
    const anonymous = new JsonClient(this.controller.url);
    return anonymous.request('POST', '/api/v1/webhooks/github', body, headers);
  }

  /** Stops the controller and starts it again on the same state directory and config. */
  async restartController(): Promise<void> {
    await this.controller.process.stop();
    this.controller = await startController({ stateDir: this.controller.stateDir, env: this.env });
    this.api = new JsonClient(this.controller.url, this.controller.adminToken);
  }

  async stop(): Promise<void> {
    await this.controller.process.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Polls until `probe` returns a value (JsonClient.until with a shorter default). */
export function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  return JsonClient.until(probe, what, timeoutMs);
}
