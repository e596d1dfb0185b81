import { sql } from 'kysely';
import type { Db } from '../storage/database.js';
import type { SqlDialectName } from '../storage/migrations/index.js';

/**
 * Test support: what the migrations built, read back from each engine's own catalog and
 * put in one form so that a SQLite and a PostgreSQL database can be compared table by table.
 */
export interface ColumnSnapshot {
  name: string;
  /** Declared type (`text`, `integer`, `bigint`); `auto-id` for auto-incrementing keys. */
  type: string;
  /** Primary-key columns count as not null on both (SQLite alone would allow NULL in a text key). */
  notNull: boolean;
  /** The default as SQL text without PostgreSQL's `::type` cast; null when none. */
  default: string | null;
}

export interface IndexSnapshot {
  /** Named only for explicit indexes; constraint-backed ones are named differently per engine. */
  name: string | null;
  unique: boolean;
  columns: string[];
}

export interface ForeignKeySnapshot {
  column: string;
  references: string;
  onDelete: string;
}

export interface TableSnapshot {
  columns: ColumnSnapshot[];
  primaryKey: string[];
  /** Explicit indexes and unique constraints, sorted. */
  indexes: IndexSnapshot[];
  foreignKeys: ForeignKeySnapshot[];
}

/** Every table but the migrator's own, by name. */
export async function schemaSnapshot(
  db: Db,
  dialect: SqlDialectName,
): Promise<Map<string, TableSnapshot>> {
  const tables = dialect === 'sqlite' ? await sqliteTables(db) : await postgresTables(db);
  for (const table of tables.values()) {
    table.indexes.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    table.foreignKeys.sort((a, b) => a.column.localeCompare(b.column));
  }
  return new Map([...tables].sort(([a], [b]) => a.localeCompare(b)));
}

function tableOf(tables: Map<string, TableSnapshot>, name: string): TableSnapshot {
  let table = tables.get(name);
  if (!table) {
    table = { columns: [], primaryKey: [], indexes: [], foreignKeys: [] };
    tables.set(name, table);
  }
  return table;
}

const SQLITE_TABLES = sql`select name from sqlite_master
  where type = 'table' and name not like 'sqlite%' and name not like 'kysely%'`;

async function sqliteTables(db: Db): Promise<Map<string, TableSnapshot>> {
  const tables = new Map<string, TableSnapshot>();
  const columns = await sql<{
    table: string;
    name: string;
    type: string;
    notnull: number;
    dflt: string | null;
    pk: number;
  }>`select t.name as "table", c.name, lower(c.type) as type, c."notnull" as "notnull",
            c.dflt_value as dflt, c.pk
     from (${SQLITE_TABLES}) t, pragma_table_info(t.name) c
     order by t.name, c.cid`.execute(db);
  const keyCount = new Map<string, number>();
  for (const c of columns.rows)
    if (c.pk > 0) keyCount.set(c.table, (keyCount.get(c.table) ?? 0) + 1);
  const keys = new Map<string, { name: string; pk: number }[]>();
  for (const c of columns.rows) {
    // A single INTEGER PRIMARY KEY is SQLite's auto-assigned rowid.
    const auto = c.pk > 0 && c.type === 'integer' && keyCount.get(c.table) === 1;
    tableOf(tables, c.table).columns.push({
      name: c.name,
      type: auto ? 'auto-id' : c.type,
      notNull: c.notnull === 1 || c.pk > 0,
      default: c.dflt,
    });
    if (c.pk > 0) keys.set(c.table, [...(keys.get(c.table) ?? []), c]);
  }
  for (const [table, pk] of keys) {
    tableOf(tables, table).primaryKey = pk.sort((a, b) => a.pk - b.pk).map((c) => c.name);
  }

  const indexes = await sql<{
    table: string;
    name: string;
    unique: number;
    origin: string;
    column: string;
  }>`select t.name as "table", l.name, l."unique" as "unique", l.origin, i.name as "column"
     from (${SQLITE_TABLES}) t, pragma_index_list(t.name) l, pragma_index_info(l.name) i
     order by t.name, l.name, i.seqno`.execute(db);
  addIndexes(
    tables,
    indexes.rows
      .filter((r) => r.origin !== 'pk')
      .map((r) => ({ ...r, explicit: r.origin === 'c', unique: r.unique === 1 })),
  );

  const foreignKeys = await sql<{
    table: string;
    from: string;
    ref: string;
    to: string;
    on_delete: string;
  }>`select t.name as "table", f."from", f."table" as ref, f."to", f.on_delete
     from (${SQLITE_TABLES}) t, pragma_foreign_key_list(t.name) f`.execute(db);
  for (const f of foreignKeys.rows) {
    tableOf(tables, f.table).foreignKeys.push({
      column: f.from,
      references: `${f.ref}.${f.to}`,
      onDelete: f.on_delete,
    });
  }
  return tables;
}

async function postgresTables(db: Db): Promise<Map<string, TableSnapshot>> {
  const tables = new Map<string, TableSnapshot>();
  const columns = await sql<{
    table: string;
    name: string;
    type: string;
    nullable: string;
    dflt: string | null;
  }>`select table_name as "table", column_name as name, data_type as type,
            is_nullable as nullable, column_default as dflt
     from information_schema.columns
     where table_schema = current_schema() and table_name not like 'kysely%'
     order by table_name, ordinal_position`.execute(db);
  for (const c of columns.rows) {
    const auto = c.dflt?.startsWith('nextval(') ?? false;
    tableOf(tables, c.table).columns.push({
      name: c.name,
      type: auto ? 'auto-id' : c.type,
      notNull: c.nullable === 'NO',
      default: auto || c.dflt === null ? null : c.dflt.replace(/::[a-z ]+$/, ''),
    });
  }

  const indexes = await sql<{
    table: string;
    name: string;
    primary: boolean;
    unique: boolean;
    explicit: boolean;
    column: string;
  }>`select t.relname as "table", i.relname as name, x.indisprimary as primary,
            x.indisunique as unique,
            not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid) as explicit,
            a.attname as "column"
     from pg_index x
     join pg_class i on i.oid = x.indexrelid
     join pg_class t on t.oid = x.indrelid
     join pg_namespace n on n.oid = t.relnamespace
     cross join lateral unnest(x.indkey) with ordinality as k(attnum, ord)
     join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
     where n.nspname = current_schema() and t.relname not like 'kysely%'
     order by t.relname, i.relname, k.ord`.execute(db);
  for (const r of indexes.rows) {
    if (r.primary) tableOf(tables, r.table).primaryKey.push(r.column);
  }
  addIndexes(
    tables,
    indexes.rows.filter((r) => !r.primary),
  );

  const foreignKeys = await sql<{
    table: string;
    column: string;
    ref: string;
    to: string;
    on_delete: string;
  }>`select k.table_name as "table", k.column_name as "column", u.table_name as ref,
            u.column_name as "to", r.delete_rule as on_delete
     from information_schema.referential_constraints r
     join information_schema.key_column_usage k
       on k.constraint_schema = r.constraint_schema and k.constraint_name = r.constraint_name
     join information_schema.constraint_column_usage u
       on u.constraint_schema = r.constraint_schema and u.constraint_name = r.constraint_name
     where r.constraint_schema = current_schema()`.execute(db);
  for (const f of foreignKeys.rows) {
    tableOf(tables, f.table).foreignKeys.push({
      column: f.column,
      references: `${f.ref}.${f.to}`,
      onDelete: f.on_delete,
    });
  }
  return tables;
}

/** Groups one-row-per-column index listings into indexes. */
function addIndexes(
  tables: Map<string, TableSnapshot>,
  rows: readonly {
    table: string;
    name: string;
    unique: boolean;
    explicit: boolean;
    column: string;
  }[],
): void {
  const byName = new Map<string, { table: string; index: IndexSnapshot }>();
  for (const r of rows) {
    let entry = byName.get(r.name);
    if (!entry) {
      entry = {
        table: r.table,
        index: { name: r.explicit ? r.name : null, unique: r.unique, columns: [] },
      };
      byName.set(r.name, entry);
    }
    entry.index.columns.push(r.column);
  }
  for (const { table, index } of byName.values()) tableOf(tables, table).indexes.push(index);
}
