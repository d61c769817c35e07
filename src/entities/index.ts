/** The public pieces of the task model and stores. */
export * from './task-state';
export * from './task-model';
export type { CreateGoalResult, NewGoal, NewTask, TaskFilter, TaskStore } from './task-store';
export { TaskRegistry, type TaskRegistryOptions } from './task-registry';
export { createTaskStore, DEFAULT_SQLITE_PATH } from './create-task-store';
export { SqliteTaskStore, type SqliteTaskStoreOptions } from './sqlite-task-store';
export { PostgresTaskStore, type PostgresTaskStoreOptions } from './postgres-task-store';
export { JsonTaskStore, type JsonTaskStoreOptions } from './json-task-store';
export { entitySchemas, type SqlDialect } from './entity-schemas';
export { MIGRATIONS } from './migrations';
