/**
 * Builds the TypeORM DataSource of a SQL store. Migrations are files (`migrations/`) run at
 * open by `runStoreMigrations`; `synchronize` is never used.
 */
import { DataSource } from 'typeorm';
import { entitySchemas } from './entity-schemas';
import { MIGRATIONS } from './migrations';
import { prepareSqliteConnection, SQLITE_BUSY_TIMEOUT_MS } from './sqlite-connection';

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
    timeout: options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS,
    prepareDatabase: prepareSqliteConnection,
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
