import type { Generated } from 'kysely';

/**
 * Table types for Kysely. Timestamps are ISO-8601 text so that SQLite and PostgreSQL
 * store and sort them the same way; JSON columns are text for the same reason.
 */
export interface HostsTable {
  name: string;
  mode: 'managed' | 'monitor';
  os: 'linux' | 'darwin' | null;
  /** SHA-256 of the agent token, hex. The token itself is never stored. */
  token_hash: string;
  created_at: string;
  agent_version: string | null;
  protocol_version: number | null;
  last_connected_at: string | null;
  last_seen_at: string | null;
  facts_json: string | null;
  facts_at: string | null;
  metrics_json: string | null;
}

export interface DeploymentsTable {
  id: string;
  host_name: string;
  store_path: string;
  action: 'switch' | 'boot' | 'test' | 'dry-activate';
  status: string;
  phase: string | null;
  actor: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  error_code: string | null;
  error_message: string | null;
  result_system: string | null;
}

export interface DeploymentLogsTable {
  deployment_id: string;
  seq: number;
  at: string;
  stream: 'stdout' | 'stderr' | 'agent';
  line: string;
}

/** Append-only record of what happened: transitions, actions and who took them. */
export interface EventsTable {
  id: Generated<number>;
  at: string;
  kind: string;
  actor: string;
  host_name: string | null;
  deployment_id: string | null;
  data_json: string | null;
}

export interface Database {
  hosts: HostsTable;
  deployments: DeploymentsTable;
  deployment_logs: DeploymentLogsTable;
  events: EventsTable;
}
