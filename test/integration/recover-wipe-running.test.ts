/**
 * Redis wiped (FLUSHALL on a private server) while two agent processes run a goal of a few
 * hundred short tasks, then `agentq recover` with the agents still running (issue 16, point 1).
 *
 * The agents' handlers report progress and compute 5–20 ms, so at the wipe some jobs are claimed
 * whose `started` report has not been written yet: written after the wipe, it used to recreate
 * a fragment of the job's hash (`progress` alone), which recover then took for the job itself —
 * the rebuilt job was never queued and the goal never ended. Now agents write only to a job
 * hash that has its data, and recover deletes fragments before it rebuilds.
 */
import { Redis } from 'ioredis';
import type { PlanSpec, TaskSpec } from '../../src/entities/task-model';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

const TASKS = 300;

/**
 * FLUSHALL at a moment an agent has claimed a job (`active` on its queue's stream) whose
 * `started` report (`progress`) has not come yet: the window the fragments came from. Bounded:
 * after `rounds` reads without such a moment it wipes all the same.
 */
async function wipeWhileClaimed(url: string, streams: string[], rounds = 200): Promise<boolean> {
  const reader = new Redis(url);
  const wiper = new Redis(url);
  try {
    await wiper.ping();
    const ids = streams.map(() => '$');
    const claimed = new Set<string>();
    for (let round = 0; round < rounds; round++) {
      const reply = (await reader.xread(
        'COUNT',
        1000,
        'BLOCK',
        1000,
        'STREAMS',
        ...streams,
        ...ids,
      )) as Array<[string, Array<[string, string[]]>]> | null;
      for (const [stream, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          ids[streams.indexOf(stream)] = id;
          const f: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
          if (f.event === 'active' && f.jobId) claimed.add(f.jobId);
          if (f.event === 'progress' && f.jobId) claimed.delete(f.jobId);
        }
      }
      if (claimed.size > 0) {
        await wiper.flushall();
        return true;
      }
    }
    await wiper.flushall();
    return false;
  } finally {
    reader.disconnect();
    await wiper.quit();
  }
}

/** A layered DAG: each task waits on the one 10 before it, every third also on the one 13 before. */
function plan(): PlanSpec {
  const tasks: TaskSpec[] = [];
  for (let i = 0; i < TASKS; i++) {
    const dependsOn = [i - 10, ...(i % 3 === 0 ? [i - 13] : [])]
      .filter((d) => d >= 0)
      .map((d) => `t${d}`);
    tasks.push({
      key: `t${i}`,
      title: `task ${i}`,
      type: i % 2 === 0 ? 'build' : 'test',
      dependsOn,
      data: { cpuMs: 5 + ((i * 7) % 16) },
    });
  }
  return { goal: 'wipe while agents run', tasks };
}

describe('agentq recover after FLUSHALL while agents run', () => {
  let world: FaultWorld;

  beforeAll(async () => {
    world = await FaultWorld.start();
    await world.startAgent('agent-1', ['build', 'test'], { concurrency: 4 });
    await world.startAgent('agent-2', ['build', 'test'], { concurrency: 4 });
  });

  afterAll(async () => {
    await world.close();
  });

  it('ends the goal with every task DONE exactly once', async () => {
    const { goalId } = await world.supervisor.submitPlan(plan());
    await waitFor(
      'a third of the tasks DONE in SQL',
      async () => {
        const done = await world.registry.findTaskStates({ goalId, state: 'DONE', limit: TASKS });
        return done.length >= TASKS / 3;
      },
      { timeoutMs: 60000, intervalMs: 20 },
    );
    const streams = ['build', 'test'].map((type) => world.coordinator.queue(type).keys.events!);
    await wipeWhileClaimed(world.redis.url, streams);

    // `task show` of a task waiting in SQL says its job is not in Redis.
    // The last task waits on a chain of others: still BACKLOG in SQL.
    const last = `${goalId}.t${TASKS - 1}`;
    expect((await world.registry.getTask(last))?.state).toBe('BACKLOG');
    const shown = await world.cli(['task', 'show', last, '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      stuck: { kind: 'job-lost', job: 'missing' },
    });
    const text = await world.cli(['task', 'show', last]);
    expect(text.stdout).toMatch(/not claimed\s+its job is not in Redis.*agentq recover/);

    const recoverAt = Date.now();
    const first = await world.cli(['recover', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as {
      goalsRebuilt: number;
      goals: Array<{ requeued: string[]; keptDone: string[]; fragmentsDropped: number }>;
    };
    expect(report.goalsRebuilt).toBe(1);
    const goal = report.goals[0]!;
    expect(goal.requeued.length + goal.keptDone.length).toBe(TASKS);
    // No agent recreated a job after the wipe: there was nothing to drop.
    expect(goal.fragmentsDropped).toBe(0);

    expect(await world.goalEnd(goalId, 90000)).toBe('DONE');
    const tasks = await world.registry.findTasks({ goalId, limit: TASKS });
    expect(tasks).toHaveLength(TASKS);
    expect(tasks.filter((t) => t.state !== 'DONE').map((t) => t.key)).toEqual([]);
    const doneEvents = new Map<string, number>();
    for (const e of await world.events(goalId)) {
      if (e.toState === 'DONE') doneEvents.set(e.taskId, (doneEvents.get(e.taskId) ?? 0) + 1);
    }
    expect(tasks.filter((t) => doneEvents.get(t.id) !== 1).map((t) => t.key)).toEqual([]);
    // What SQL kept as done before the wipe was not run again after the recover.
    const kept = new Set(goal.keptDone);
    const rerun = world.records().filter((r) => r.phase === 'start' && r.at >= recoverAt);
    expect(rerun.filter((r) => kept.has(r.key)).map((r) => r.key)).toEqual([]);

    const second = await world.cli(['recover', '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ goalsRebuilt: 0, goals: [] });
  });
});
