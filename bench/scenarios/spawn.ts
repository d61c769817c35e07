/**
 * Living goals at scale (issue 15): a goal whose tasks spawn 10,000 tasks in total — one task
 * spawns 100, each of those spawns 100 no-op tasks — end to end (submission to the goal's root
 * job completed), against the same graph submitted as one plan (the 100 depend on the first, the
 * 10,000 each on their group's task). One agent, concurrency 50, no mirror in either run.
 * Target: the spawning goal within 1.5× of the plan.
 */
import type { TaskSpec } from '../../src/entities/task-model';
import { startBenchSystem } from '../agentq/system';
import { benchPrefix } from '../context';
import { hrtimeMs, ratio } from '../stats';
import type { BenchContext } from './types';

export interface SpawnSection {
  /** Tasks spawned in all (fan-out × fan-out), besides the one that starts it. */
  tasks: number;
  fanOut: number;
  /** Seconds for the spawning goal, and for the same graph as one plan. */
  seconds: number;
  planSeconds: number;
  /** seconds / planSeconds (target ≤ 1.5). */
  ratio: number;
}

const task = (key: string, type: string, dependsOn: string[] = []): TaskSpec => ({
  key,
  title: key,
  type,
  dependsOn,
});

async function run(
  ctx: BenchContext,
  name: string,
  fanOut: number,
  tasks: TaskSpec[],
): Promise<number> {
  const system = await startBenchSystem(ctx.redis, benchPrefix(name), { mirror: false });
  try {
    await system.agent({
      agentId: `${name}-1`,
      capabilities: ['fan', 'leaf'],
      concurrency: 50,
      breaker: false,
      handlers: {
        // The spawning side: the root spawns the groups, each group spawns its leaves.
        fan: async (t, c) => {
          if (t.data.planned === true) return null;
          if (t.key === 'root') {
            await c.spawn(Array.from({ length: fanOut }, (_, g) => task(`g${g}`, 'fan')));
          } else {
            await c.spawn(Array.from({ length: fanOut }, (_, i) => task(`${t.key}-${i}`, 'leaf')));
          }
          return null;
        },
        leaf: () => null,
      },
    });
    const t0 = hrtimeMs();
    const goalId = await system.submit({ goal: name, tasks });
    await system.goalDone(goalId);
    return Math.round(hrtimeMs() - t0) / 1000;
  } finally {
    await system.close();
  }
}

export async function spawnScenario(ctx: BenchContext): Promise<SpawnSection> {
  const fanOut = ctx.quick ? 20 : 100;
  ctx.step(`spawn: ${fanOut} × ${fanOut} tasks spawned at run time`);
  const seconds = await run(ctx, 'spawn', fanOut, [task('root', 'fan')]);
  ctx.step(`spawn: the same ${fanOut} × ${fanOut} tasks as one plan`);
  const plan: TaskSpec[] = [{ ...task('root', 'fan'), data: { planned: true } }];
  for (let g = 0; g < fanOut; g++) {
    plan.push({ ...task(`g${g}`, 'fan', ['root']), data: { planned: true } });
    for (let i = 0; i < fanOut; i++) plan.push(task(`g${g}-${i}`, 'leaf', [`g${g}`]));
  }
  const planSeconds = await run(ctx, 'spawnplan', fanOut, plan);
  return {
    tasks: fanOut * fanOut,
    fanOut,
    seconds,
    planSeconds,
    ratio: ratio(seconds, planSeconds),
  };
}
