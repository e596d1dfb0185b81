/** The SQL engines the migrations are written for; they differ only in auto ids. */
export type SqlDialectName = 'sqlite' | 'postgres';
