/** agentq scaling: the same 10 ms tasks and slot layout as the BullMQ baseline, run by agents. */
import { layout, TASK_MS, type ScalingFigure } from '../baseline/scaling';
import { benchPrefix, type BenchContext } from '../context';
import { ratio } from '../stats';
import { runWorkerProcesses } from '../worker-processes';
import { startBenchSystem } from './system';

export async function agentqScaling(
  ctx: BenchContext,
  slots: number,
  tasksPerSlot: number,
): Promise<ScalingFigure> {
  const prefix = benchPrefix(`asc${slots}`);
  const system = await startBenchSystem(ctx.redis, prefix, { mirror: false });
  try {
    const tasks = slots * tasksPerSlot;
    await system.submit({
      goal: 'scaling',
      tasks: Array.from({ length: tasks }, (_, i) => ({
        key: `t${i}`,
        title: `t${i}`,
        type: 'scaling',
      })),
    });
    // Like the BullMQ side, whose Workers are made and connected before the clock starts: the
    // agents start (connections, registration, listeners) while the queue is paused, and the
    // timed window begins with the resume.
    const queue = system.coordinator.queue('scaling');
    await queue.pause();
    const { processes, concurrency } = layout(slots);
    const { seconds } = await runWorkerProcesses(
      {
        script: 'agentq/scaling-worker.ts',
        processes,
        env: {
          BENCH_REDIS_URL: ctx.redis.url,
          BENCH_PREFIX: prefix,
          BENCH_CONCURRENCY: String(concurrency),
          BENCH_TASK_MS: String(TASK_MS),
        },
        onGo: () => queue.resume(),
      },
      tasks,
    );
    const ideal = (slots * 1000) / TASK_MS;
    return {
      slots,
      processes,
      concurrency,
      tasks,
      seconds,
      efficiency: ratio(tasks / seconds, ideal),
    };
  } finally {
    await system.close();
  }
}
