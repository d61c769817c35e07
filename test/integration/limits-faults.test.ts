/**
 * Limits hold across faults (a private redis-server with AOF, agents in their own processes):
 * an agent killed with -9 gives its concurrency slot back when BullMQ takes its task back; limits
 * survive a Redis restart (AOF); after Redis lost every key, `agentq recover` restores them from
 * SQL and the rebuilt tasks keep their concurrencyKey and run under the limits again.
 */
import { Redis } from 'ioredis';
import type { PlanSpec } from '../../src/entities/task-model';
import type { FaultRecord } from '../helpers/fault-agent';
import { FaultWorld, type FaultAgent } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

// Agent processes start through tsx; stalled-job recovery waits for a lock to expire.
jest.setTimeout(120000);

/** The most handlers running at once, over all or over one key's tasks (from the record order). */
function peak(records: readonly FaultRecord[], pick: (r: FaultRecord) => boolean = () => true) {
  let now = 0;
  let most = 0;
  for (const r of records.filter(pick)) {
    now += r.phase === 'start' ? 1 : -1;
    most = Math.max(most, now);
  }
  return most;
}

function plan(goal: string, ms: number): PlanSpec {
  const tasks = [];
  for (const repo of ['repo-a', 'repo-b']) {
    for (let i = 0; i < 4; i++) {
      tasks.push({
        key: `${repo}-${i}`,
        title: `${repo} ${i}`,
        type: 'build',
        concurrencyKey: repo,
        data: { ms },
      });
    }
  }
  return { goal, tasks };
}

describe('limits across agent kill -9, Redis restart (AOF) and recover', () => {
  let world: FaultWorld;
  const agents = new Map<string, FaultAgent>();
  // Short locks so a killed agent's task is taken back in seconds (production: 30 s).
  const startAgent = async (id: string) =>
    agents.set(
      id,
      await world.startAgent(id, ['build'], {
        concurrency: 3,
        lockDurationMs: 2000,
        stalledIntervalMs: 1000,
      }),
    );

  beforeAll(async () => {
    world = await FaultWorld.start({ redisArgs: ['--appendonly', 'yes'] });
    for (const id of ['f1', 'f2', 'f3']) await startAgent(id);
    const set = await world.cli(['limits', 'set', 'build', '--concurrency', '2', '--per-key', '1']);
    expect(set).toMatchObject({ code: 0, stderr: '' });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('gives the slot of an agent killed with -9 back when BullMQ takes its task back', async () => {
    const { goalId } = await world.supervisor.submitPlan(plan('kill an agent', 800));
    const first = await waitFor('a task to start', () =>
      world.records().find((r) => r.phase === 'start' && r.taskId.startsWith(goalId)),
    );
    await world.stopAgent(agents.get(first.agentId)!, 'SIGKILL');
    const killedAt = world.records().length;
    expect(await world.goalEnd(goalId, 90000)).toBe('DONE');
    const records = world.records().filter((r) => r.taskId.startsWith(goalId));
    // Every handler of the killed agent ended with its process (it may have run more than
    // `first`): count each ended there.
    const before = world.records().slice(0, killedAt);
    const ended = new Set(before.filter((r) => r.phase === 'end').map((r) => r.taskId));
    const killed = before
      .filter((r) => r.agentId === first.agentId && r.phase === 'start' && !ended.has(r.taskId))
      .map((r) => ({ ...r, phase: 'end' as const }));
    const all = [...before, ...killed, ...world.records().slice(killedAt)].filter((r) =>
      r.taskId.startsWith(goalId),
    );
    expect(peak(all)).toBe(2);
    expect(peak(all, (r) => r.key.startsWith('repo-a'))).toBe(1);
    expect(peak(all, (r) => r.key.startsWith('repo-b'))).toBe(1);
    expect(records.filter((r) => r.phase === 'end')).toHaveLength(8);
    await startAgent('f4');
  });

  it('keeps the limits across a Redis restart with AOF', async () => {
    await world.redis.stopProcess('SIGTERM');
    await world.redis.startProcess();
    await waitFor('Redis to answer the coordinator', () => world.coordinator.client.ping());
    expect(await world.coordinator.getCapabilityLimits('build')).toEqual({
      concurrency: 2,
      perKey: 1,
    });
    expect(await world.coordinator.queue('build').getGlobalConcurrency()).toBe(2);
    const { goalId } = await world.supervisor.submitPlan(plan('after a restart', 100));
    expect(await world.goalEnd(goalId, 90000)).toBe('DONE');
    const records = world.records().filter((r) => r.taskId.startsWith(goalId));
    expect(peak(records)).toBeLessThanOrEqual(2);
    expect(peak(records, (r) => r.key.startsWith('repo-a'))).toBe(1);
    // A parked task's claim costs no attempt and records no error (when the mirror records the
    // claim at all: a claim and its parking read in one batch leave the task PENDING).
    const events = await world.events(goalId);
    const parked = events.filter((e) => e.fromState === 'ASSIGNED' && e.toState === 'PENDING');
    expect(parked.every((e) => !e.detail || !('error' in e.detail))).toBe(true);
    const tasks = await world.registry.findTasks({ goalId });
    expect(tasks.map((t) => [t.state, t.attempt])).toEqual(tasks.map(() => ['DONE', 1]));
  });

  it('restores the limits from SQL with `agentq recover` after Redis lost every key', async () => {
    const { goalId } = await world.supervisor.submitPlan(plan('recover the limits', 400));
    await waitFor('a task of the goal to finish', () =>
      world.records().some((r) => r.phase === 'end' && r.taskId.startsWith(goalId)),
    );
    const wipe = new Redis(world.redis.url);
    await wipe.flushall();
    await wipe.quit();
    expect(await world.coordinator.getCapabilityLimits('build')).toBeNull();

    const recovered = await world.cli(['recover', '--json']);
    expect(recovered).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(recovered.stdout)).toMatchObject({
      limitsRestored: ['build'],
      goalsRebuilt: 1,
    });
    expect(await world.coordinator.getCapabilityLimits('build')).toEqual({
      concurrency: 2,
      perKey: 1,
    });
    expect(await world.coordinator.queue('build').getGlobalConcurrency()).toBe(2);
    const wipedAt = world.records().length;
    expect(await world.goalEnd(goalId, 90000)).toBe('DONE');
    // Handlers running at the wipe may still have ended after it: look at starts after recover.
    const after = world
      .records()
      .slice(wipedAt)
      .filter((r) => r.taskId.startsWith(goalId));
    expect(after.some((r) => r.phase === 'start')).toBe(true);
    const rebuilt = await world.coordinator.queue('build').getJob(`${goalId}.repo-b-3`);
    expect(rebuilt?.data.concurrencyKey).toBe('repo-b');
  });
});
