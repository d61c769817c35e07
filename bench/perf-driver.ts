/**
 * A quick A/B driver for one hot path (not part of `agentq bench`): runs one scenario once
 * against a Redis of its own (best a private one, so INFO commandstats counts only this run)
 * and prints seconds, tasks/s and Redis calls per task.
 *
 *   npx tsx bench/perf-driver.ts --redis redis://127.0.0.1:6411 --scenario throughput --tasks 2000
 *   scenarios: throughput (one goal of no-op tasks, mirror on), dag (random DAG, mirror off),
 *              dag-phases (the same DAG, submitted step by step with a timestamp per phase),
 *              goals (one-task goals, added back to back)
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { addGoalFlow, compileGoal, saveGoalRecord } from '../src/queues/compiler';
import { writeGoalFlow } from '../src/queues/flow-writer';
import { goalIdFor } from '../src/queues/goal-ids';
import { resolvePlan, toPlanSpec } from '../src/queues/plan-schema';
import { taskJobId } from '../src/queues/task-job';
import { randomDag } from './agentq/dag';
import { startBenchSystem, type BenchSystem } from './agentq/system';
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

/**
 * The DAG goal submitted the way `SupervisorAgent.submit` does it, one phase at a time, with
 * milliseconds since the start at the end of each phase (and the first and last task run).
 */
async function dagPhases(
  system: BenchSystem,
  tasks: number,
  type: string,
  runs: { first: number; last: number },
  t0: number,
): Promise<Record<string, number>> {
  const at: Record<string, number> = {};
  const mark = (phase: string): void => {
    at[phase] = Math.round(hrtimeMs() - t0);
  };
  const raw = { goal: 'dag', tasks: randomDag(tasks).map((t) => ({ ...t, type })) };
  mark('plan');
  const plan = resolvePlan(raw);
  mark('validate');
  const goalId = goalIdFor(null);
  await system.registry.createGoal(
    { id: goalId, key: null, title: plan.goal, planner: 'object', plan: toPlanSpec(plan) },
    plan.tasks.map((t) => ({
      ...t,
      id: taskJobId(goalId, t.key),
      state: t.dependsOn.length > 0 ? 'BACKLOG' : 'PENDING',
    })),
    'bench',
  );
  mark('sqlCreateGoal');
  const input = { goalId, title: plan.goal, shard: 0, tasks: plan.tasks };
  await saveGoalRecord(system.coordinator, input);
  mark('goalRecord');
  const compiled = compileGoal(input);
  mark('compile');
  await writeGoalFlow(system.coordinator, compiled);
  mark('flowAdd');
  await system.goalDone(goalId);
  mark('goalDone');
  at.firstTaskRun = Math.round(runs.first - t0);
  at.lastTaskRun = Math.round(runs.last - t0);
  return at;
}

/** Redis's own CPU seconds (user + sys) so far: steadier than wall time on a shared machine. */
async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string): number =>
    Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
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
  const runs = { first: 0, last: 0 };
  await system.agent({
    agentId: 'perf-1',
    capabilities: [type],
    concurrency: 50,
    breaker: false,
    handlers: {
      noop: () => {
        runs.last = hrtimeMs();
        if (done === 0) runs.first = runs.last;
        done++;
        return null;
      },
    },
  });
  await stats.config('RESETSTAT');
  const redisCpu0 = await redisCpuSeconds(stats);
  const cpu0 = process.cpuUsage();
  const t0 = hrtimeMs();
  let phases: Record<string, number> | undefined;
  if (scenario === 'dag-phases') {
    phases = await dagPhases(system, tasks, type, runs, t0);
  } else if (scenario === 'throughput') {
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
  const cpu = process.cpuUsage(cpu0);
  const nodeCpuSeconds = +((cpu.user + cpu.system) / 1e6).toFixed(2);
  const redisCpu = +((await redisCpuSeconds(stats)) - redisCpu0).toFixed(2);
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
      nodeCpuSeconds,
      redisCpuSeconds: redisCpu,
    }),
  );
  console.log(`  per task: ${top}`);
  if (phases) console.log(`  ms since start: ${JSON.stringify(phases)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
