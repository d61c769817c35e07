/**
 * agentq's side of a benchmark: a temp SQLite registry, a coordinator under a unique prefix,
 * optionally the mirror (with the pub/sub bridge), and agents. Goals go in the way
 * SupervisorAgent submits them: validated plan → tasks in SQL → one flow in Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisConfig } from '../../src/config';
import { TaskRegistry } from '../../src/entities/task-registry';
import type { PlanSpec } from '../../src/entities/task-model';
import type { NewTask } from '../../src/entities/task-store';
import { startMirror, type MirrorHandle } from '../../src/board/mirror';
import {
  AutonomousAgent,
  type AutonomousAgentOptions,
} from '../../src/processors/autonomous-agent';
import { addGoalFlow } from '../../src/queues/compiler';
import { goalIdFor } from '../../src/queues/goal-ids';
import { resolvePlan } from '../../src/queues/plan-schema';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { taskJobId } from '../../src/queues/task-job';

export interface BenchSystem {
  registry: TaskRegistry;
  coordinator: RedisCoordinator;
  mirror: MirrorHandle | null;
  agent(options: Omit<AutonomousAgentOptions, 'redisCoordinator'>): Promise<AutonomousAgent>;
  /** Submits a plan as SupervisorAgent does; returns the goal id. */
  submit(plan: PlanSpec): Promise<string>;
  close(): Promise<void>;
}

export async function startBenchSystem(
  redis: RedisConfig,
  prefix: string,
  options: { mirror: boolean },
): Promise<BenchSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-bench-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  await registry.open();
  const coordinator = new RedisCoordinator({ redis, prefix });
  const mirror = options.mirror ? startMirror({ store: registry, coordinator }) : null;
  const agents: AutonomousAgent[] = [];
  return {
    registry,
    coordinator,
    mirror,
    async agent(agentOptions) {
      const agent = new AutonomousAgent({ ...agentOptions, redisCoordinator: coordinator });
      agents.push(agent);
      await agent.start();
      return agent;
    },
    async submit(input) {
      const plan = resolvePlan(input);
      const goalId = goalIdFor(plan.key);
      const tasks: NewTask[] = plan.tasks.map((t) => ({
        ...t,
        id: taskJobId(goalId, t.key),
        state: t.dependsOn.length > 0 ? 'BACKLOG' : 'PENDING',
      }));
      await registry.createGoal(
        { id: goalId, key: plan.key, title: plan.goal, planner: 'bench', plan: input },
        tasks,
        'bench',
      );
      await coordinator.registerCapabilities([...new Set(plan.tasks.map((t) => t.type))]);
      await addGoalFlow(coordinator, { goalId, title: plan.goal, shard: 0, tasks: plan.tasks });
      return goalId;
    },
    async close() {
      await Promise.allSettled(agents.map((a) => a.close({ graceMs: 1000 })));
      await mirror?.close();
      await coordinator.close();
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
