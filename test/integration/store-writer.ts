/**
 * A child process of the store tests: opens the store named by argv[2] (an AGENTQ_DB value),
 * walks the tasks of goal argv[3] whose index has parity argv[4] through
 * ASSIGNED → ACTIVE → DONE in small batches, creates a goal of its own, and exits 0.
 */
import { randomUUID } from 'node:crypto';
import { parseDbUrl } from '../../src/config';
import { TaskRegistry } from '../../src/entities/task-registry';
import type { TaskChange } from '../../src/entities/task-model';

async function main(): Promise<void> {
  const [db, goalId, parity] = process.argv.slice(2);
  const registry = TaskRegistry.fromConfig(parseDbUrl(db!));
  try {
    const tasks = (await registry.findTasks({ goalId: goalId!, limit: 100000 })).filter(
      (_, i) => i % 2 === Number(parity),
    );
    for (const to of ['ASSIGNED', 'ACTIVE', 'DONE'] as const) {
      for (let i = 0; i < tasks.length; i += 10) {
        const batch: TaskChange[] = tasks.slice(i, i + 10).map((task) => ({
          taskId: task.id,
          to,
          at: new Date(),
          attempt: 1,
          agentId: `p${parity}`,
        }));
        const result = await registry.applyChanges(batch);
        if (result.rejected.length > 0) throw result.rejected[0]!.error;
      }
    }
    const id = randomUUID();
    const plan = { goal: `child ${parity}`, tasks: [] };
    await registry.createGoal(
      { id, key: `child-${parity}-${id}`, title: plan.goal, planner: 'test', plan },
      [
        {
          id: randomUUID(),
          key: 'only',
          title: 'only',
          description: '',
          type: 'development',
          priority: 5,
          dependsOn: [],
          data: {},
          attempts: 1,
          timeoutMs: 1000,
          optional: false,
          state: 'PENDING',
        },
      ],
    );
  } finally {
    await registry.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
