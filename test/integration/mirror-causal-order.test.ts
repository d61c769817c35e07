/**
 * The audit log's order is causal: merging several capability queues' streams, the mirror never
 * gives a task's transition a lower seq than the DONE of a dependency that released it, and the
 * bridge publishes in that order (a goal's `goals:complete` after all of its tasks' messages).
 * Checked for every edge of random DAGs over three capabilities, in SQL and on the channels.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createAgentSystem, type AgentSystem } from '../../src/agent-system';
import {
  TASK_EVENT_NAMES,
  type PlanSpec,
  type TaskEventRecord,
} from '../../src/entities/task-model';
import { randomDag } from '../helpers/dag-plans';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

interface Message {
  channel: string;
  seq?: number;
  event?: string;
  taskId?: string;
  goalId: string;
}

/** Edges of `plan` whose dependent moved before its dependency's DONE, in `order`. */
function causalViolations(
  plan: PlanSpec,
  goalId: string,
  order: Array<{ taskId: string; event: string }>,
): string[] {
  const doneAt = new Map<string, number>();
  const firstMoveAt = new Map<string, number>();
  order.forEach((e, i) => {
    if (e.event === 'complete' && !doneAt.has(e.taskId)) doneAt.set(e.taskId, i);
    if (e.event !== 'new' && !firstMoveAt.has(e.taskId)) firstMoveAt.set(e.taskId, i);
  });
  const problems: string[] = [];
  for (const task of plan.tasks) {
    const id = `${goalId}.${task.key}`;
    for (const dep of task.dependsOn ?? []) {
      const depDone = doneAt.get(`${goalId}.${dep}`);
      const moved = firstMoveAt.get(id);
      if (depDone === undefined || moved === undefined) {
        problems.push(`${task.key} or its dependency ${dep} has no record`);
      } else if (moved < depDone) {
        problems.push(
          `${task.key} moved (#${moved}) before its dependency ${dep} was DONE (#${depDone})`,
        );
      }
    }
  }
  return problems;
}

describe('the audit log across several capability queues', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-causal-'));
  let system: AgentSystem;
  let subscriber: Redis;
  const messages: Message[] = [];

  beforeAll(async () => {
    system = await createAgentSystem({
      config: {
        REDIS_URL,
        AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`,
        AGENTQ_PREFIX: uniquePrefix('causal'),
      },
    });
    subscriber = new Redis(REDIS_URL);
    subscriber.on('message', (channel: string, raw: string) => {
      messages.push({ channel, ...(JSON.parse(raw) as Omit<Message, 'channel'>) });
    });
    await subscriber.subscribe(
      ...[...TASK_EVENT_NAMES.map((n) => `tasks:${n}`), 'goals:complete'].map((name) =>
        system.redis.channel(name),
      ),
    );
    // One agent per capability, so the three queues' streams move side by side.
    for (const capability of ['a', 'b', 'c']) {
      await system.startAgent({
        agentId: `agent-${capability}`,
        capabilities: [capability],
        concurrency: 20,
        handlers: { [capability]: async (task) => ({ key: task.key }) },
      });
    }
  });

  afterAll(async () => {
    await subscriber?.quit();
    await system?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([11, 12, 13])(
    'records and publishes every edge of a random DAG in causal order (seed %i)',
    async (seed) => {
      const plan = randomDag(300, seed);
      const { goalId } = await system.supervisor.submitPlan(plan);
      await waitFor(
        'the goal DONE on goals:complete',
        () => messages.some((m) => m.channel.endsWith('goals:complete') && m.goalId === goalId),
        { timeoutMs: 90000, intervalMs: 50 },
      );

      const logged: TaskEventRecord[] = [];
      for (let after = 0; ;) {
        const page = await system.registry.eventsAfter(after, 5000);
        logged.push(...page.filter((e) => e.goalId === goalId));
        if (page.length < 5000) break;
        after = page.at(-1)!.seq;
      }
      expect(causalViolations(plan, goalId, logged)).toEqual([]);

      const mine = messages.filter((m) => m.goalId === goalId);
      const taskMessages = mine.filter((m) => m.taskId !== undefined) as Array<
        Message & { taskId: string; event: string; seq: number }
      >;
      expect(taskMessages.map((m) => m.seq)).toEqual(logged.map((e) => e.seq));
      expect(causalViolations(plan, goalId, taskMessages)).toEqual([]);
      // The goal's end comes after every message of its tasks.
      expect(mine.at(-1)!.channel).toMatch(/goals:complete$/);
    },
    120000,
  );
});
