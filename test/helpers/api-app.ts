/**
 * A real agentq app for API tests: a SQLite store in a temp dir (or a PostgreSQL schema of its
 * own, with `db: 'postgres'`), a coordinator on a unique BullMQ
 * prefix, and `createApp`. Goals are seeded through the store itself (the same writes the
 * supervisor makes); `close()` releases everything the app opened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type AgentqApp } from '../../src/board/app';
import type { TaskRecord } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import type { TaskState } from '../../src/entities/task-state';
import type { NewTask } from '../../src/entities/task-store';
import { taskJobId } from '../../src/queues/task-job';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { createPgSchema, PG_URL, redisConfig, uniquePrefix } from './servers';

export interface ApiFixture extends AgentqApp {
  store: TaskRegistry;
  coordinator: RedisCoordinator;
  lines: string[];
  /** Writes a goal and its tasks (`key: [dependsOn…]`), all of type `type`. */
  seedGoal(
    spec: Record<string, string[]>,
    type?: string,
  ): Promise<{ goalId: string; tasks: TaskRecord[] }>;
  /** Moves a task along the lifecycle to `state` (through the states between). */
  moveTo(taskId: string, state: TaskState): Promise<void>;
  close(): Promise<void>;
}

const PATH: Record<TaskState, TaskState[]> = {
  BACKLOG: [],
  PENDING: [],
  ASSIGNED: ['ASSIGNED'],
  ACTIVE: ['ASSIGNED', 'ACTIVE'],
  DONE: ['ASSIGNED', 'ACTIVE', 'DONE'],
  FAILED: ['FAILED'],
  CANCELLED: ['CANCELLED'],
};

let goalCounter = 0;

export async function startApiApp(
  options: {
    token?: string | null;
    readonlyToken?: string | null;
    supervisor?: boolean;
    /** @defaultValue 'sqlite' */
    db?: 'sqlite' | 'postgres';
  } = {},
): Promise<ApiFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-api-'));
  const pg = options.db === 'postgres' ? await createPgSchema() : null;
  const store = new TaskRegistry(
    pg
      ? { backend: 'postgres', url: PG_URL, schema: pg.schema }
      : { backend: 'sqlite', path: join(dir, 'agentq.db') },
  );
  await store.open();
  const coordinator = new RedisCoordinator({ redis: redisConfig(), prefix: uniquePrefix('api') });
  const lines: string[] = [];
  const app = createApp({
    store,
    coordinator,
    config: { token: options.token ?? null, readonlyToken: options.readonlyToken ?? null },
    log: (line) => lines.push(line),
    ...(options.supervisor
      ? {
          goals: new SupervisorAgent(store, coordinator, { templatesDir: null, llm: null }),
        }
      : {}),
  });
  await app.ready;

  return {
    ...app,
    store,
    coordinator,
    lines,
    async seedGoal(spec, type = 'development') {
      const goalId = `g-test${(++goalCounter).toString().padStart(12, '0')}`;
      const tasks: NewTask[] = Object.entries(spec).map(([key, dependsOn]) => ({
        id: taskJobId(goalId, key),
        key,
        title: `Task ${key}`,
        description: '',
        type,
        priority: 5,
        dependsOn,
        data: {},
        attempts: 3,
        timeoutMs: 600000,
        optional: false,
        state: dependsOn.length > 0 ? 'BACKLOG' : 'PENDING',
      }));
      const plan = {
        goal: `Goal ${goalId}`,
        tasks: tasks.map(({ id: _id, state: _s, ...t }) => t),
      };
      const created = await store.createGoal(
        { id: goalId, key: null, title: plan.goal, planner: 'test', plan },
        tasks,
        'test',
      );
      return { goalId, tasks: created.tasks };
    },
    async moveTo(taskId, state) {
      const task = await store.getTask(taskId);
      const steps =
        task?.state === 'BACKLOG' && state !== 'FAILED' && state !== 'CANCELLED'
          ? ['PENDING' as const, ...PATH[state]]
          : PATH[state];
      const result = await store.applyChanges(
        steps.map((to) => ({ taskId, to, at: new Date(), attempt: 1, agentId: 'agent-1' })),
      );
      if (result.rejected.length > 0) throw result.rejected[0]!.error;
    },
    async close() {
      await app.close();
      await coordinator.close();
      await store.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
