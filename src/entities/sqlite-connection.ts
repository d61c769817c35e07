/**
 * How a SQLite task store's connection is set up, shared by TypeORM's driver (data-source.ts,
 * `prepareDatabase`) and the store's direct open of a migrated file (sqlite-task-store.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';

/** How long a writer waits for another process's lock, in ms. */
export const SQLITE_BUSY_TIMEOUT_MS = 15000;

/** Pragmas run on every new connection before anything else. */
export function prepareSqliteConnection(db: { pragma(source: string): unknown }): void {
  // WAL + NORMAL: a commit survives a crash of the process; only an OS crash or power loss
  // can lose the last commits (never corrupt the file). FULL would fsync every commit.
  db.pragma('synchronous = NORMAL');
  // Measured with bench/store-writes.ts: a 64 MiB page cache and checkpoints every ~40 MiB
  // of WAL (instead of 2 MiB and 4 MiB) roughly double batched write throughput; the WAL
  // file is truncated back to 64 MiB after a checkpoint.
  db.pragma('cache_size = -65536');
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('journal_size_limit = 67108864');
}

/** What TypeORM's better-sqlite3 driver runs after `prepareDatabase` (enableWAL: true). */
export function finishSqliteConnection(db: BetterSqlite3.Database): void {
  db.pragma('foreign_keys = ON');
  db.pragma('journal_mode = WAL');
}
