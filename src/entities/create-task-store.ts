/** Picks the task store of a database configuration (`AGENTQ_DB`). */
import type { DbConfig } from '../config';
import { JsonTaskStore } from './json-task-store';
import { PostgresTaskStore } from './postgres-task-store';
import { SqliteTaskStore } from './sqlite-task-store';
import type { TaskStore } from './task-store';

/** The default SQLite file, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = '.agentq/agentq.db';

/** A store for `config`, not yet open. */
export function createTaskStore(config: DbConfig): TaskStore {
  switch (config.backend) {
    case 'sqlite':
      return new SqliteTaskStore({ path: config.path || DEFAULT_SQLITE_PATH });
    case 'postgres':
      return new PostgresTaskStore({ url: config.url, schema: config.schema });
    case 'json':
      return new JsonTaskStore({ dir: config.dir });
  }
}
