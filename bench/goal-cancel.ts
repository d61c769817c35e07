/**
 * How long the goal worker takes to finalize a cancelled goal: a random DAG of `--tasks` tasks
 * (the DAG benchmark's graph) is submitted with no agent running, then cancelled; measured from
 * `cancelGoal` to the root job failed, when every task has been removed and recorded CANCELLED.
 * Not part of `agentq bench`; prints one JSON line.
 *
 *   npx tsx bench/goal-cancel.ts --redis redis://127.0.0.1:6411 --tasks 10000
 */
import { parseArgs } from 'node:util';
import { Job } from 'bullmq';
import { cancelGoal } from '../src/queues/cancellation';
import { GOALS_QUEUE } from '../src/queues/names';
import { randomDag } from './agentq/dag';
import { startBenchSystem } from './agentq/system';
import { benchPrefix } from './context';
import { hrtimeMs } from './stats';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
      tasks: { type: 'string', default: '10000' },
    },
  });
  const tasks = Number(values.tasks);
  const system = await startBenchSystem({ url: values.redis! } as never, benchPrefix('cxl'), {
    mirror: false,
  });
  try {
    const plan = randomDag(tasks).map((t) => ({ ...t, type: 'noop' }));
    const goalId = await system.submit({ goal: 'cancelled DAG', tasks: plan });
    const t0 = hrtimeMs();
    await cancelGoal(system.coordinator, goalId, 'bench');
    const goals = system.coordinator.queue(GOALS_QUEUE);
    while (!(await (await Job.fromId(goals, goalId))?.isFailed())) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const finalizeSeconds = Math.round(hrtimeMs() - t0) / 1000;
    console.log(JSON.stringify({ tasks, finalizeSeconds }));
  } finally {
    await system.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
