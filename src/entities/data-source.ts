/**
 * Builds the TypeORM DataSource of a SQL store. Migrations are files (`migrations/`) run at
 * open by `runStoreMigrations`; `synchronize` is never used.
 */
import { DataSource } from 'typeorm';
import { entitySchemas } from './entity-schemas';
import { MIGRATIONS } from './migrations';

export interface SqliteSourceOptions {
  path: string;
  /** How long a writer waits for another process's lock, in ms. @defaultValue 15000 */
  busyTimeoutMs?: number;
}

export interface PostgresSourceOptions {
  url: string;
  /** Every table lives in this schema (created when missing). @defaultValue 'public' */
  schema?: string;
  /** Connections in the pool. @defaultValue 4 */
  poolSize?: number;
}

export function sqliteDataSource(options: SqliteSourceOptions): DataSource {
  return new DataSource({
    type: 'better-sqlite3',
    database: options.path,
    entities: entitySchemas('sqlite'),
    migrations: MIGRATIONS,
    enableWAL: true,
    timeout: options.busyTimeoutMs ?? 15000,
    // WAL + NORMAL: a commit survives a crash of the process; only an OS crash or power loss
    // can lose the last commits (never corrupt the file). FULL would fsync every commit.
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma('synchronous = NORMAL');
      // Measured with bench/store-writes.ts: a 64 MiB page cache and checkpoints every ~40 MiB
      // of WAL (instead of 2 MiB and 4 MiB) roughly double batched write throughput; the WAL
      // file is truncated back to 64 MiB after a checkpoint.
      db.pragma('cache_size = -65536');
      db.pragma('wal_autocheckpoint = 10000');
      db.pragma('journal_size_limit = 67108864');
    },
  });
}

export function postgresDataSource(options: PostgresSourceOptions): DataSource {
  const schema = options.schema ?? 'public';
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema,
    entities: entitySchemas('postgres'),
    migrations: MIGRATIONS,
    // The stores' own SQL names tables without a schema: search_path puts them in `schema`.
    extra: { max: options.poolSize ?? 4, options: `-c search_path="${schema}"` },
  });
}

/**
 * Runs pending migrations. Two processes opening a fresh database at the same moment may race
 * (both see no migrations table): the loser's attempt fails, and a retry sees the winner's work.
 */
export async function runStoreMigrations(source: DataSource, attempts = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await source.runMigrations({ transaction: 'all' });
      return;
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * i));
    }
  }
}
