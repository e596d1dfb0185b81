import type { Kysely, Migration, MigrationProvider } from 'kysely';
import * as foundation from './0001_foundation.js';
import * as pipeline from './0002_pipeline.js';
import * as safeActivation from './0003_safe_activation.js';
import * as policies from './0004_policies.js';
import * as notifications from './0005_notifications.js';
import * as rules from './0006_rules.js';
import * as users from './0007_users.js';
import * as agentIdentity from './0008_agent_identity.js';
import * as hardening from './0009_hardening.js';
import * as activationPlans from './0010_activation_plans.js';
import * as editorDrafts from './0011_editor_drafts.js';
import * as deploymentPhaseTimes from './0012_deployment_phase_times.js';

import type { SqlDialectName } from './dialect.js';

export type { SqlDialectName };

type Step = { up(db: Kysely<unknown>, dialect: SqlDialectName): Promise<void> };

/**
 * Migrations are code, named so they sort in order. They only use column types both
 * SQLite and PostgreSQL understand; `dialect` covers the one difference (auto ids).
 */
const STEPS: Record<string, Step> = {
  '0001_foundation': foundation,
  '0002_pipeline': pipeline,
  '0003_safe_activation': safeActivation,
  '0004_policies': policies,
  '0005_notifications': notifications,
  '0006_rules': rules,
  '0007_users': users,
  '0008_agent_identity': agentIdentity,
  '0009_hardening': hardening,
  '0010_activation_plans': activationPlans,
  '0011_editor_drafts': editorDrafts,
  '0012_deployment_phase_times': deploymentPhaseTimes,
};

export class InlineMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: SqlDialectName) {}

  getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const [name, step] of Object.entries(STEPS)) {
      migrations[name] = { up: (db) => step.up(db, this.dialect) };
    }
    return Promise.resolve(migrations);
  }
}
