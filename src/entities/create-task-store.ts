/**
 * Picks the task store of a database configuration (`AGENTQ_DB`). Each store's module is loaded
 * when it is picked: a process loads the driver of its own database only.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type { DbConfig } from '../config';
import type { JsonTaskStore } from './json-task-store';
import type { PostgresTaskStore } from './postgres-task-store';
import type { SqliteTaskStore } from './sqlite-task-store';
import type { TaskStore } from './task-store';

/** The default SQLite file, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = '.agentq/agentq.db';

/** A store for `config`, not yet open. */
export function createTaskStore(config: DbConfig): TaskStore {
  switch (config.backend) {
    case 'sqlite': {
      const { SqliteTaskStore: Store } = require('./sqlite-task-store') as {
        SqliteTaskStore: typeof SqliteTaskStore;
      };
      return new Store({ path: config.path || DEFAULT_SQLITE_PATH });
    }
    case 'postgres': {
      const { PostgresTaskStore: Store } = require('./postgres-task-store') as {
        PostgresTaskStore: typeof PostgresTaskStore;
      };
      return new Store({ url: config.url, schema: config.schema });
    }
    case 'json': {
      const { JsonTaskStore: Store } = require('./json-task-store') as {
        JsonTaskStore: typeof JsonTaskStore;
      };
      return new Store({ dir: config.dir });
    }
  }
}
