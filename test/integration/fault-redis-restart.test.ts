/**
 * Redis killed (SIGKILL) mid-goal and restarted on the same port and directory with AOF
 * `appendfsync everysec`: the agents, the mirror and the internal workers reconnect by themselves.
 *
 * "Nothing lost" here means: the goal ends DONE in SQL with every task DONE, each task's result
 * committed exactly once (one DONE transition per task in the audit log, even for a task that
 * ran again because the last second of writes was lost or its lock expired), and no agent
 * silently stopped fetching: every agent process started a task after the restart.
 */
import type { PlanSpec } from '../../src/entities/task-model';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

const AGENTS = ['agent-1', 'agent-2', 'agent-3'];
const TASKS = 90;

// Three layers: 30 roots, 30 that each need one root, 30 that each need two of the middle.
function plan(): PlanSpec {
  const tasks: PlanSpec['tasks'] = [];
  for (let i = 0; i < TASKS / 3; i++) {
    tasks.push({ key: `r${i}`, title: `root ${i}`, type: 'work', data: { ms: 400 } });
  }
  for (let i = 0; i < TASKS / 3; i++) {
    tasks.push({
      key: `m${i}`,
      title: `mid ${i}`,
      type: 'work',
      dependsOn: [`r${i}`],
      data: { ms: 400 },
    });
  }
  for (let i = 0; i < TASKS / 3; i++) {
    const deps = [`m${i}`, `m${(i + 1) % (TASKS / 3)}`];
    tasks.push({
      key: `s${i}`,
      title: `sink ${i}`,
      type: 'work',
      dependsOn: deps,
      data: { ms: 400 },
    });
  }
  return { goal: 'survive a Redis restart', tasks };
}

describe('Redis SIGKILL and restart with AOF everysec mid-goal', () => {
  let world: FaultWorld;

  beforeAll(async () => {
    world = await FaultWorld.start({
      redisArgs: ['--appendonly', 'yes', '--appendfsync', 'everysec'],
    });
    for (const id of AGENTS) {
      // Short locks so a task whose run was lost with the kill comes back within seconds.
      await world.startAgent(id, ['work'], { lockDurationMs: 3000, stalledIntervalMs: 1500 });
    }
  });

  afterAll(async () => {
    await world.close();
  });

  it('reconnects every agent and finishes the goal, each result committed once', async () => {
    const { goalId } = await world.supervisor.submitPlan(plan());
    await waitFor(
      'a quarter of the tasks DONE in SQL',
      async () =>
        (await world.registry.findTasks({ goalId, state: 'DONE', limit: TASKS })).length >=
        TASKS / 4,
      { timeoutMs: 30000, intervalMs: 50 },
    );
    await world.redis.stopProcess('SIGKILL');
    const restartedAt = Date.now();
    await world.redis.startProcess();

    expect(await world.goalEnd(goalId, 50000)).toBe('DONE');
    const tasks = await world.registry.findTasks({ goalId, limit: TASKS });
    expect(tasks.filter((t) => t.state === 'DONE')).toHaveLength(TASKS);

    const events = await world.events(goalId);
    const doneCount = new Map<string, number>();
    for (const e of events) {
      if (e.toState === 'DONE') doneCount.set(e.taskId, (doneCount.get(e.taskId) ?? 0) + 1);
    }
    expect([...doneCount.values()].filter((n) => n !== 1)).toEqual([]);
    expect(doneCount.size).toBe(TASKS);

    // Every agent claimed again after the restart (none silently stopped fetching).
    const startedAfter = new Set(
      world
        .records()
        .filter((r) => r.phase === 'start' && r.at > restartedAt)
        .map((r) => r.agentId),
    );
    expect([...startedAfter].sort()).toEqual(AGENTS);
  });
});
