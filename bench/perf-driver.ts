/**
 * A quick A/B driver for one hot path (not part of `agentq bench`): runs one scenario once
 * against a Redis of its own (best a private one, so INFO commandstats counts only this run)
 * and prints seconds, tasks/s and Redis calls per task.
 *
 *   npx tsx bench/perf-driver.ts --redis redis://127.0.0.1:6411 --scenario throughput --tasks 2000
 *   scenarios: throughput (one goal of no-op tasks, mirror on), dag (random DAG, mirror off),
 *              goals (one-task goals, added back to back)
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { addGoalFlow } from '../src/queues/compiler';
import { goalIdFor } from '../src/queues/goal-ids';
import { resolvePlan } from '../src/queues/plan-schema';
import { randomDag } from './agentq/dag';
import { startBenchSystem } from './agentq/system';
import { benchPrefix, until } from './context';
import { hrtimeMs } from './stats';

async function commandStats(client: Redis): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of (await client.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) stats.set(m[1]!, Number(m[2]));
  }
  return stats;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
      scenario: { type: 'string', default: 'throughput' },
      tasks: { type: 'string', default: '2000' },
    },
  });
  const tasks = Number(values.tasks);
  const url = values.redis!;
  const scenario = values.scenario!;
  const stats = new Redis(url);
  const mirror = scenario === 'throughput';
  const system = await startBenchSystem({ url } as never, benchPrefix('perf'), { mirror });
  const type = 'noop';
  let done = 0;
  await system.agent({
    agentId: 'perf-1',
    capabilities: [type],
    concurrency: 50,
    breaker: false,
    handlers: {
      noop: () => {
        done++;
        return null;
      },
    },
  });
  await stats.config('RESETSTAT');
  const t0 = hrtimeMs();
  if (scenario === 'throughput') {
    await system.submit({
      goal: 'throughput',
      tasks: Array.from({ length: tasks }, (_, i) => ({ key: `t${i}`, title: `t${i}`, type })),
    });
    await until(() => done >= tasks, 600_000, 'tasks');
    while ((await system.completed(type)) < tasks) await new Promise((r) => setTimeout(r, 5));
  } else if (scenario === 'dag') {
    const plan = randomDag(tasks).map((t) => ({ ...t, type }));
    const goalId = await system.submit({ goal: 'dag', tasks: plan });
    await system.goalDone(goalId);
  } else {
    const [spec] = resolvePlan({ goal: 'g', tasks: [{ key: 'l', title: 'l', type }] }).tasks;
    for (let i = 0; i < tasks; i++) {
      await addGoalFlow(system.coordinator, {
        goalId: goalIdFor(null),
        title: 'g',
        shard: 0,
        tasks: [spec!],
      });
    }
    await until(() => done >= tasks, 600_000, 'tasks');
    const goals = system.coordinator.queue('_goals');
    while ((await goals.getCompletedCount()) < tasks) await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (hrtimeMs() - t0) / 1000;
  const calls = await commandStats(stats);
  await system.close();
  await stats.quit();
  const total = [...calls.values()].reduce((a, b) => a + b, 0);
  const lua = (calls.get('evalsha') ?? 0) + (calls.get('eval') ?? 0);
  const top = [...calls.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([c, n]) => `${c}=${(n / tasks).toFixed(2)}`)
    .join(' ');
  console.log(
    JSON.stringify({
      scenario,
      tasks,
      seconds,
      tasksPerSecond: Math.round(tasks / seconds),
      luaPerTask: +(lua / tasks).toFixed(2),
      callsPerTask: +(total / tasks).toFixed(2),
    }),
  );
  console.log(`  per task: ${top}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
