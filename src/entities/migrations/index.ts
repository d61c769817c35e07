/**
 * Every migration, oldest first. Add new ones at the end: a change to entity-schemas.ts without
 * one fails test/integration/store-schema-drift.test.ts.
 */
import { InitialSchema1730000000000 } from './1730000000000-initial-schema';
import { TasksTypeIdIndex1764000000000 } from './1764000000000-tasks-type-id-index';
import { GoalRecorded1765000000000 } from './1765000000000-goal-recorded';
import { CapabilityLimits1766000000000 } from './1766000000000-capability-limits';
import { GoalBudget1766100000000 } from './1766100000000-goal-budget';
import { TaskSpawnedBy1766200000000 } from './1766200000000-task-spawned-by';

export const MIGRATIONS = [
  InitialSchema1730000000000,
  TasksTypeIdIndex1764000000000,
  GoalRecorded1765000000000,
  CapabilityLimits1766000000000,
  GoalBudget1766100000000,
  TaskSpawnedBy1766200000000,
];
