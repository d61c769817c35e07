/**
 * agentq's side of a benchmark: a temp SQLite registry, a coordinator under a unique prefix, a
 * SupervisorAgent, agentq's internal workers (gates, goals), optionally the mirror with the
 * pub/sub bridge, and agents. `close()` stops them all and deletes every key under the prefix.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { deleteByPrefix } from '../context';
import type { RedisConfig } from '../../src/config';
import { TaskRegistry } from '../../src/entities/task-registry';
import type { PlanSpec } from '../../src/entities/task-model';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import {
  AutonomousAgent,
  type AutonomousAgentOptions,
} from '../../src/processors/autonomous-agent';
import { startInternalWorkers } from '../../src/queues/internal-workers';
import { GOALS_QUEUE } from '../../src/queues/names';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent, type SupervisorOptions } from '../../src/queues/supervisor-agent';

export interface BenchSystem {
  registry: TaskRegistry;
  coordinator: RedisCoordinator;
  supervisor: SupervisorAgent;
  mirror: MirrorHandle | null;
  agent(options: Omit<AutonomousAgentOptions, 'redisCoordinator'>): Promise<AutonomousAgent>;
  /** Submits a plan through the supervisor (SQL, then one flow); returns the goal id. */
  submit(plan: PlanSpec): Promise<string>;
  /** Resolves when the goal's root job has completed (every task done). */
  goalDone(goalId: string, timeoutMs?: number): Promise<void>;
  /** How many jobs of a capability queue have completed. */
  completed(capability: string): Promise<number>;
  close(): Promise<void>;
}

export async function startBenchSystem(
  redis: RedisConfig,
  prefix: string,
  options: { mirror: boolean; internalWorkers?: boolean },
): Promise<BenchSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-bench-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  await registry.open();
  const coordinator = new RedisCoordinator({ redis, prefix });
  // Goals of tens of thousands of tasks: their one flow add may take longer than the default 5 s
  // (`redisWriteTimeoutMs`, being added to SupervisorOptions; ignored by a supervisor without it).
  const supervisorOptions: SupervisorOptions & { redisWriteTimeoutMs?: number } = {
    actor: 'bench',
    redisWriteTimeoutMs: 300_000,
  };
  const supervisor = new SupervisorAgent(registry, coordinator, supervisorOptions);
  const internal = options.internalWorkers === false ? null : startInternalWorkers(coordinator);
  const mirror = options.mirror ? startMirror({ store: registry, coordinator }) : null;
  const agents: AutonomousAgent[] = [];
  return {
    registry,
    coordinator,
    supervisor,
    mirror,
    async agent(agentOptions) {
      const agent = new AutonomousAgent({ ...agentOptions, redisCoordinator: coordinator });
      agents.push(agent);
      await agent.start();
      return agent;
    },
    async submit(plan) {
      return (await supervisor.submitPlan(plan)).goalId;
    },
    async goalDone(goalId, timeoutMs = 600_000) {
      const goals = coordinator.queue(GOALS_QUEUE);
      let done = false;
      const started = Date.now();
      while (!done) {
        const job = await Job.fromId(goals, goalId);
        done = (await job?.isCompleted()) ?? false;
        if (!done && Date.now() - started > timeoutMs) throw new Error(`goal ${goalId} not done`);
        if (!done) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async completed(capability) {
      return coordinator.queue(capability).getCompletedCount();
    },
    async close() {
      await Promise.allSettled(agents.map((a) => a.close({ graceMs: 1000 })));
      await internal?.close();
      await mirror?.close();
      await coordinator.close();
      await registry.close();
      const cleaner = new Redis(redis.url);
      cleaner.on('error', () => undefined);
      await deleteByPrefix(cleaner, prefix).finally(() => cleaner.quit());
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
