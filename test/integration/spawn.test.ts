/**
 * `ctx.spawn` (DESIGN.md "Living goals") on two real worker processes (the DAG harness's
 * AutonomousAgents) with the state mirror on SQLite: spawned tasks run exactly once, after their
 * dependencies, with all results; the spawning task ends after them and its dependents see its
 * result and every spawned task's under its key; a retried attempt spawning again adds nothing;
 * nesting; a spawned failure fails the spawner unless optional; SQL, the audit log and Bull Board
 * carry the spawned tasks. A property test runs random spawn trees.
 */
import type { JobNode } from 'bullmq';
import type { PlanSpec, TaskSpec } from '../../src/entities/task-model';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { loadGoalRecord } from '../../src/queues/compiler';
import { startDagHarness, type DagHarness } from '../helpers/dag-harness';
import { task } from '../helpers/dag-plans';
import type { RunRecord } from '../helpers/dag-worker-process';
import { waitFor } from '../helpers/wait-for';

/** Every task of a plan and of what its tasks spawn (recursively): key → spec and spawner. */
function flatten(plan: PlanSpec): Map<string, { spec: TaskSpec; spawnedBy?: string }> {
  const all = new Map<string, { spec: TaskSpec; spawnedBy?: string }>();
  const visit = (spec: TaskSpec, spawnedBy?: string) => {
    all.set(spec.key, { spec, ...(spawnedBy ? { spawnedBy } : {}) });
    const spawn = (spec.data?.spawn ?? []) as unknown as TaskSpec[];
    for (const child of spawn) visit(child, spec.key);
  };
  for (const t of plan.tasks) visit(t);
  return all;
}

/**
 * Problems with a run of a spawning plan: each task (planned or spawned) ran once, after its
 * dependencies with their results; a spawner's dependents after everything it spawned (also
 * nested), with each of those results under its key.
 */
function checkSpawnRun(plan: PlanSpec, records: RunRecord[]): string[] {
  const problems: string[] = [];
  const all = flatten(plan);
  const runs = new Map<string, RunRecord[]>();
  for (const r of records) runs.set(r.key, [...(runs.get(r.key) ?? []), r]);
  const descendants = (key: string): string[] => {
    const out: string[] = [];
    for (const [k, t] of all) if (t.spawnedBy === key) out.push(k, ...descendants(k));
    return out;
  };
  for (const [key, { spec }] of all) {
    const mine = runs.get(key) ?? [];
    if (mine.length !== 1) {
      problems.push(`${key} ran ${mine.length} times`);
      continue;
    }
    const run = mine[0]!;
    for (const dep of spec.dependsOn ?? []) {
      const before = [dep, ...descendants(dep)];
      for (const d of before) {
        const other = runs.get(d)?.[0];
        if (!other) continue;
        if (other.endSeq >= run.startSeq) problems.push(`${key} started before ${d} ended`);
        if (JSON.stringify(run.deps[d]) !== JSON.stringify({ from: d })) {
          problems.push(`${key} saw ${JSON.stringify(run.deps[d])} for ${d}`);
        }
      }
    }
  }
  return problems;
}

/** A seeded random spawn tree: plan tasks, some of which spawn, some of those spawning again. */
function randomSpawnPlan(seed: number): PlanSpec {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  let n = 0;
  const children = (prefix: string, depth: number): TaskSpec[] => {
    const count = 1 + Math.floor(rand() * 4);
    const out: TaskSpec[] = [];
    for (let i = 0; i < count; i++) {
      const key = `${prefix}.${i}`;
      const deps = out.filter(() => rand() < 0.4).map((t) => t.key);
      const spec = task(key, 'abc'[Math.floor(rand() * 3)]!, deps);
      if (depth < 2 && rand() < 0.35) spec.data = { spawn: children(key, depth + 1) as never };
      out.push(spec);
      n++;
    }
    return out;
  };
  const tasks: TaskSpec[] = [];
  for (let i = 0; i < 6; i++) {
    const deps = tasks.filter(() => rand() < 0.3).map((t) => t.key);
    const spec = task(`p${i}`, 'abc'[i % 3]!, deps);
    if (rand() < 0.6) spec.data = { spawn: children(`p${i}`, 0) as never };
    tasks.push(spec);
  }
  return { goal: `random spawn tree (seed ${seed}, ${n} spawned)`, tasks };
}

describe('ctx.spawn on two worker processes', () => {
  let h: DagHarness;
  let mirror: MirrorHandle;

  beforeAll(async () => {
    h = await startDagHarness(['a', 'b', 'c']);
    mirror = startMirror({ store: h.registry, coordinator: h.coordinator, blockMs: 50 });
  });

  afterAll(async () => {
    await mirror?.close();
    await h?.close();
  });

  async function runToEnd(plan: PlanSpec, expected = 'completed'): Promise<string> {
    const { goalId } = await h.supervisor.submitPlan(plan);
    const end = await h.goalEnd(goalId, 120000);
    expect(end.state).toBe(expected);
    return goalId;
  }

  const eventsOf = async (taskId: string) =>
    (await h.registry.eventsAfter(0, 1_000_000)).filter((e) => e.taskId === taskId);

  const mine = async (goalId: string) =>
    (await h.records()).filter((r) => r.taskId.startsWith(`${goalId}.`));

  it('runs what a task spawns before its dependents, which see every result', async () => {
    const plan: PlanSpec = {
      goal: 'implement the API',
      tasks: [
        task('design', 'a'),
        task('api', 'b', ['design'], {
          data: {
            spawn: [
              task('users', 'c'),
              task('orders', 'a', ['design']),
              task('billing', 'b', ['users']),
              task('join', 'c', ['users', 'orders', 'billing']),
            ] as never,
          },
        }),
        task('deploy', 'a', ['api']),
      ],
    };
    const goalId = await runToEnd(plan);
    const records = await mine(goalId);
    expect(checkSpawnRun(plan, records)).toEqual([]);
    const deploy = records.find((r) => r.key === 'deploy')!;
    expect(deploy.deps).toEqual({
      api: { from: 'api' },
      users: { from: 'users' },
      orders: { from: 'orders' },
      billing: { from: 'billing' },
      join: { from: 'join' },
    });
    expect(records.find((r) => r.key === 'api')!.spawned).toEqual([
      'users',
      'orders',
      'billing',
      'join',
    ]);

    // SQL: the spawned tasks with their spawner, DONE, each `new` once by the spawning agent.
    await waitFor('the goal DONE in SQL', async () =>
      (await h.registry.getGoal(goalId))?.state === 'DONE' ? true : null,
    );
    const goal = await h.supervisor.getGoal(goalId);
    expect(goal.goal.taskCount).toBe(7);
    const byKey = new Map(goal.tasks.map((t) => [t.key, t]));
    for (const key of ['users', 'orders', 'billing', 'join']) {
      expect(byKey.get(key)).toMatchObject({ state: 'DONE', spawnedBy: `${goalId}.api` });
      const events = await eventsOf(`${goalId}.${key}`);
      const created = events.filter((e) => e.event === 'new');
      expect(created).toHaveLength(1);
      expect(created[0]!.actor).toMatch(/^agent:agent-[12]$/);
    }
    expect(byKey.get('api')).toMatchObject({ state: 'DONE', result: { from: 'api' } });
    // The spawner's `new` comes before its spawned tasks', and their ends before its own.
    const apiEvents = await eventsOf(`${goalId}.api`);
    const joinEvents = await eventsOf(`${goalId}.join`);
    expect(joinEvents.find((e) => e.toState === 'DONE')!.seq).toBeLessThan(
      apiEvents.find((e) => e.toState === 'DONE')!.seq,
    );
    expect(apiEvents.map((e) => e.toState)).toEqual([
      'BACKLOG',
      'PENDING',
      'ASSIGNED',
      'ACTIVE',
      'DONE',
    ]);

    // Bull Board: the spawned sinks hang under their spawner's job.
    const flow = await h.coordinator.flowProducer(0).getFlow({
      id: `${goalId}.api`,
      queueName: 'b',
      prefix: h.coordinator.bullPrefix(0),
      maxChildren: 100,
    });
    const under = new Set<string>();
    const walk = (node: JobNode): void => {
      under.add(node.job.id!);
      for (const child of node.children ?? []) walk(child);
    };
    walk(flow);
    for (const key of ['users', 'orders', 'billing', 'join'])
      expect(under).toContain(`${goalId}.${key}`);
  });

  it('adds nothing when a retried attempt spawns the same tasks again', async () => {
    const plan: PlanSpec = {
      goal: 'retried spawner',
      tasks: [
        task('gen', 'a', [], {
          attempts: 2,
          data: {
            failAfterSpawn: true,
            spawn: [task('x1', 'b'), task('x2', 'c', ['x1'])] as never,
          },
        }),
        task('after', 'b', ['gen']),
      ],
    };
    const goalId = await runToEnd(plan);
    const records = await mine(goalId);
    expect(checkSpawnRun(plan, records)).toEqual([]);
    expect(await h.coordinator.client.lrange(`${h.recordKey}:failed-after-spawn`, 0, -1)).toContain(
      'gen',
    );
    const record = await loadGoalRecord(h.coordinator, goalId);
    expect(record!.tasks.map(([key]) => key).sort()).toEqual(['after', 'gen', 'x1', 'x2']);
  });

  it('lets spawned tasks spawn in turn; the outer dependents see every level', async () => {
    const plan: PlanSpec = {
      goal: 'nested',
      tasks: [
        task('top', 'a', [], {
          data: {
            spawn: [
              task('mid', 'b', [], {
                data: { spawn: [task('leaf1', 'c'), task('leaf2', 'a', ['leaf1'])] as never },
              }),
              task('side', 'c'),
            ] as never,
          },
        }),
        task('end', 'b', ['top']),
      ],
    };
    const goalId = await runToEnd(plan);
    const records = await mine(goalId);
    expect(checkSpawnRun(plan, records)).toEqual([]);
    expect(Object.keys(records.find((r) => r.key === 'end')!.deps).sort()).toEqual([
      'leaf1',
      'leaf2',
      'mid',
      'side',
      'top',
    ]);
  });

  it('fails the spawning task when a spawned task fails for good', async () => {
    const goalId = await runToEnd(
      {
        goal: 'spawned failure',
        tasks: [
          task('gen', 'a', [], {
            data: {
              spawn: [task('ok', 'b'), task('bad', 'c', [], { data: { fail: true } })] as never,
            },
          }),
          task('after', 'b', ['gen']),
        ],
      },
      'failed',
    );
    await waitFor('the goal FAILED in SQL', async () =>
      (await h.registry.getGoal(goalId))?.state === 'FAILED' ? true : null,
    );
    const tasks = new Map((await h.supervisor.getGoal(goalId)).tasks.map((t) => [t.key, t]));
    expect(tasks.get('bad')!.state).toBe('FAILED');
    expect(tasks.get('gen')!.state).toBe('FAILED');
    expect(tasks.get('gen')!.error?.message).toMatch(/bad/);
    expect((await mine(goalId)).map((r) => r.key)).not.toContain('after');
  });

  it('completes the spawning task when the failed spawned task was optional', async () => {
    const goalId = await runToEnd({
      goal: 'optional spawned failure',
      tasks: [
        task('gen', 'a', [], {
          data: {
            spawn: [task('maybe', 'c', [], { optional: true, data: { fail: true } })] as never,
          },
        }),
        task('after', 'b', ['gen']),
      ],
    });
    const after = (await mine(goalId)).find((r) => r.key === 'after')!;
    expect(after.deps.gen).toEqual({ from: 'gen' });
    expect(after.deps.maybe).toEqual({ error: { message: expect.stringMatching(/maybe/) } });
  });

  it('cancels what a spawning task spawned when it is cancelled', async () => {
    const { goalId } = await h.supervisor.submitPlan({
      goal: 'cancel a spawner',
      tasks: [
        task('gen', 'a', [], {
          data: {
            spawn: [
              task('busy', 'b', [], { data: { block: true } }),
              task('next', 'c', ['busy']),
            ] as never,
          },
        }),
        task('after', 'b', ['gen']),
      ],
    });
    await waitFor('the spawned task running and its spawner waiting', async () => {
      const state = await h.coordinator.queue('a').getJobState(`${goalId}.gen`);
      return state === 'waiting-children' && (await h.blocked()).includes('busy') ? true : null;
    });
    await h.supervisor.cancelTask(`${goalId}.gen`, 'cli:ops');
    const end = await h.goalEnd(goalId);
    expect(end.state).toBe('failed');
    // A CANCELLED goal end is written at once; the running task ends when its agent sees the cancel.
    const tasks = await waitFor('every task ended in SQL', async () => {
      const g = await h.supervisor.getGoal(goalId);
      const ended = g.tasks.every((t) => ['DONE', 'FAILED', 'CANCELLED'].includes(t.state));
      return g.goal.state === 'CANCELLED' && ended ? g.tasks : null;
    });
    expect(tasks.map((t) => [t.key, t.state]).sort()).toEqual([
      ['after', 'CANCELLED'],
      ['busy', 'CANCELLED'],
      ['gen', 'CANCELLED'],
      ['next', 'CANCELLED'],
    ]);
    expect((await mine(goalId)).map((r) => r.key)).toEqual(['gen']);
  });

  it.each([11, 12, 13])('runs a random spawn tree (seed %i) exactly as spawned', async (seed) => {
    const plan = randomSpawnPlan(seed);
    const goalId = await runToEnd(plan);
    expect(checkSpawnRun(plan, await mine(goalId))).toEqual([]);
    await waitFor('every task DONE in SQL', async () => {
      const { tasks } = await h.supervisor.getGoal(goalId);
      return tasks.length === flatten(plan).size && tasks.every((t) => t.state === 'DONE')
        ? true
        : null;
    });
  });
});
