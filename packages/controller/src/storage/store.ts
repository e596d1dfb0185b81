import { BuildRepository } from './build.repository.js';
import { CacheRepository } from './cache.repository.js';
import type { Db } from './database.js';
import { DeploymentRepository } from './deployment.repository.js';
import { DraftRepository } from './draft.repository.js';
import { EvaluationRepository } from './evaluation.repository.js';
import { EventRepository } from './event.repository.js';
import { HostRepository } from './host.repository.js';
import { IdentityRepository } from './identity.repository.js';
import { NotificationRepository } from './notification.repository.js';
import { PlanRepository } from './plan.repository.js';
import { PolicyRepository } from './policy.repository.js';
import { ReleaseRepository } from './release.repository.js';
import { RevisionRepository } from './revision.repository.js';
import { UserRepository } from './user.repository.js';

/**
 * Every repository over one database handle, and transactions over all of them: inside
 * `transaction`, the `Store` handed to the work is bound to the transaction, so a
 * multi-step write (a status move, its log line, its audit entry and its notification)
 * commits or fails as a whole. Code inside a transaction must use only that `Store`.
 */
export class Store {
  readonly hosts: HostRepository;
  readonly identities: IdentityRepository;
  readonly deployments: DeploymentRepository;
  readonly events: EventRepository;
  readonly policies: PolicyRepository;
  readonly releases: ReleaseRepository;
  readonly builds: BuildRepository;
  readonly evaluations: EvaluationRepository;
  readonly revisions: RevisionRepository;
  readonly notifications: NotificationRepository;
  readonly cache: CacheRepository;
  readonly users: UserRepository;
  readonly drafts: DraftRepository;
  readonly plans: PlanRepository;

  /** Work to run once the transaction this store is bound to has committed. */
  private readonly commitHooks: (() => void)[] = [];

  constructor(readonly db: Db) {
    this.hosts = new HostRepository(db);
    this.identities = new IdentityRepository(db);
    this.deployments = new DeploymentRepository(db);
    this.events = new EventRepository(db);
    this.policies = new PolicyRepository(db);
    this.releases = new ReleaseRepository(db);
    this.builds = new BuildRepository(db);
    this.evaluations = new EvaluationRepository(db);
    this.revisions = new RevisionRepository(db);
    this.notifications = new NotificationRepository(db);
    this.cache = new CacheRepository(db);
    this.users = new UserRepository(db);
    this.drafts = new DraftRepository(db);
    this.plans = new PlanRepository(db);
  }

  /** Runs `work` in one transaction; called inside one, `work` joins it. */
  async transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this);
    let bound: Store | undefined;
    const result = await this.db.transaction().execute((trx) => work((bound = new Store(trx))));
    for (const hook of bound?.commitHooks ?? []) hook();
    return result;
  }

  /**
   * Runs `hook` once the surrounding transaction has committed (at once outside one), e.g.
   * waking a sender that must see the committed rows. Dropped when the transaction fails.
   */
  afterCommit(hook: () => void): void {
    if (this.db.isTransaction) this.commitHooks.push(hook);
    else hook();
  }
}
