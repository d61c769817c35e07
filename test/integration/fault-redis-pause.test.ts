/**
 * Redis stopped (SIGSTOP) for longer than the agents' job lock, then continued (SIGCONT). Handlers
 * that finish while Redis is frozen try to commit after their lock expired; the stalled-job check
 * hands those jobs to another run.
 *
 * "Nothing lost" here means: the goal ends DONE, and no task's result is committed twice — every
 * task has exactly one DONE transition in the SQL audit log and its BullMQ job completed once,
 * however many handler runs ended (a run whose lock expired is not committed).
 */
import type { PlanSpec } from '../../src/entities/task-model';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

const TASKS = 30;
const LOCK_MS = 2000;

describe('Redis paused (SIGSTOP) past the job lock', () => {
  let world: FaultWorld;

  beforeAll(async () => {
    world = await FaultWorld.start();
    for (const id of ['agent-1', 'agent-2']) {
      await world.startAgent(id, ['work'], {
        concurrency: 3,
        lockDurationMs: LOCK_MS,
        stalledIntervalMs: 1000,
      });
    }
  });

  afterAll(async () => {
    await world.close();
  });

  it('commits every task exactly once', async () => {
    const plan: PlanSpec = {
      goal: 'survive a paused Redis',
      tasks: Array.from({ length: TASKS }, (_, i) => ({
        key: `t${i}`,
        title: `task ${i}`,
        type: 'work',
        data: { ms: 1200 },
      })),
    };
    const { goalId } = await world.supervisor.submitPlan(plan);
    await waitFor(
      'some tasks DONE and some running in SQL',
      async () => {
        const tasks = await world.registry.findTasks({ goalId, limit: TASKS });
        return (
          tasks.filter((t) => t.state === 'DONE').length >= 3 &&
          tasks.some((t) => t.state === 'ACTIVE')
        );
      },
      { timeoutMs: 30000, intervalMs: 50 },
    );
    world.redis.signal('SIGSTOP');
    // Frozen for well past the lock (2 s): the handlers running now finish meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 3 * LOCK_MS));
    world.redis.signal('SIGCONT');

    expect(await world.goalEnd(goalId, 50000)).toBe('DONE');
    const events = await world.events(goalId);
    const done = new Map<string, number>();
    for (const e of events)
      if (e.toState === 'DONE') done.set(e.taskId, (done.get(e.taskId) ?? 0) + 1);
    expect(done.size).toBe(TASKS);
    expect([...done.values()].filter((n) => n !== 1)).toEqual([]);

    // BullMQ's own record: one `completed` entry per task job on the queue's events stream.
    const stream = await world.coordinator.client.xrange(
      world.coordinator.queue('work').keys.events!,
      '-',
      '+',
    );
    const completed = new Map<string, number>();
    for (const [, fields] of stream) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      if (f.event === 'completed') completed.set(f.jobId!, (completed.get(f.jobId!) ?? 0) + 1);
    }
    expect(completed.size).toBe(TASKS);
    expect([...completed.values()].filter((n) => n !== 1)).toEqual([]);

    const ends = world.records().filter((r) => r.phase === 'end');
    expect(ends.length).toBeGreaterThanOrEqual(TASKS);
    // The figure: handler runs that ended but were not committed because the lock had expired.
    process.stdout.write(`fault-redis-pause: ${ends.length - TASKS} uncommitted handler ends\n`);
  });
});
