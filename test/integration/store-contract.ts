/**
 * The task store contract, run unchanged against every backend (store-sqlite.test.ts,
 * store-postgres.test.ts, store-json.test.ts). The tests share one store and run in order;
 * each works on its own goal, so global counts are compared as differences.
 */
import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../../src/errors';
import { TaskRegistry } from '../../src/entities/task-registry';
import { eventNameFor, type AgentInfo, type TaskChange } from '../../src/entities/task-model';
import {
  IllegalTransitionError,
  TASK_STATES,
  TRANSITIONS,
  type TaskState,
} from '../../src/entities/task-state';
import type { NewGoal, NewTask } from '../../src/entities/task-store';

export interface StoreFixture {
  /** A new registry on the same storage every call (not yet open). */
  make(): TaskRegistry;
  /** Removes the storage; every registry is closed by then. */
  teardown(): Promise<void>;
}

/** Changes that take a freshly created task (PENDING, or BACKLOG) into `state`. */
const PATH_TO: Record<TaskState, TaskState[]> = {
  BACKLOG: [],
  PENDING: [],
  ASSIGNED: ['ASSIGNED'],
  ACTIVE: ['ASSIGNED', 'ACTIVE'],
  DONE: ['ASSIGNED', 'ACTIVE', 'DONE'],
  FAILED: ['FAILED'],
  CANCELLED: ['CANCELLED'],
};

export function newTask(key: string, extra: Partial<NewTask> = {}): NewTask {
  return {
    id: randomUUID(),
    key,
    title: `Task ${key}`,
    description: '',
    type: 'development',
    priority: 5,
    dependsOn: [],
    data: { n: 1 },
    attempts: 3,
    timeoutMs: 600000,
    optional: false,
    state: 'PENDING',
    ...extra,
  };
}

export function newGoal(key: string | null = null): NewGoal {
  const plan = { goal: 'Build user authentication system', tasks: [] };
  return { id: randomUUID(), key, title: plan.goal, planner: 'test', plan };
}

const at = (n = 0) => new Date(Date.UTC(2025, 0, 1, 12, 0, 0, n));

function pathChanges(taskId: string, state: TaskState): TaskChange[] {
  return PATH_TO[state].map((to) => ({ taskId, to, at: at(), attempt: 1 }));
}

export function taskStoreContract(setup: () => Promise<StoreFixture>): void {
  let fixture: StoreFixture;
  let store: TaskRegistry;

  beforeAll(async () => {
    fixture = await setup();
    store = fixture.make();
  });

  afterAll(async () => {
    await store?.close();
    await fixture?.teardown();
  });

  it('creates a goal with its tasks and one `new` event per task, idempotent on the goal key', async () => {
    const before = await store.lastSeq();
    const goal = newGoal(`key-${randomUUID()}`);
    const tasks = [
      newTask('design'),
      newTask('build', { state: 'BACKLOG', dependsOn: ['design'] }),
    ];
    const created = await store.createGoal(goal, tasks, 'cli');
    expect(created.created).toBe(true);
    expect(created.goal).toMatchObject({ id: goal.id, state: 'ACTIVE', taskCount: 2 });
    expect(created.events.map((e) => [e.seq, e.event, e.toState, e.actor])).toEqual([
      [before + 1, 'new', 'PENDING', 'cli'],
      [before + 2, 'new', 'BACKLOG', 'cli'],
    ]);
    const build = await store.getTask(tasks[1]!.id);
    expect(build).toMatchObject({
      key: 'build',
      state: 'BACKLOG',
      dependsOn: ['design'],
      attempt: 0,
    });
    expect(build!.data).toEqual({ n: 1 });

    const again = await store.createGoal({ ...newGoal(goal.key), title: 'other' }, [newTask('x')]);
    expect(again.created).toBe(false);
    expect(again.goal.id).toBe(goal.id);
    expect(again.tasks.map((t) => t.key).sort()).toEqual(['build', 'design']);
    expect(again.events).toEqual([]);
    expect(await store.lastSeq()).toBe(before + 2);
    expect((await store.getGoalByKey(goal.key!))?.id).toBe(goal.id);
  });

  it('applies every legal transition of the table', async () => {
    const pairs = TASK_STATES.flatMap((from) => TRANSITIONS[from].map((to) => ({ from, to })));
    const tasks = pairs.map(({ from, to }) =>
      newTask(`${from}-${to}`, { state: from === 'BACKLOG' ? 'BACKLOG' : 'PENDING' }),
    );
    await store.createGoal(newGoal(), tasks);
    const setupResult = await store.applyChanges(
      pairs.flatMap(({ from }, i) => pathChanges(tasks[i]!.id, from)),
    );
    expect(setupResult.rejected).toEqual([]);

    const result = await store.applyChanges(
      pairs.map(({ to }, i) => ({ taskId: tasks[i]!.id, to, at: at(1), attempt: 1 })),
    );
    expect(result.rejected).toEqual([]);
    expect(result.stale).toEqual([]);
    expect(result.events.map((e) => [e.fromState, e.toState, e.event])).toEqual(
      pairs.map(({ from, to }) => [from, to, eventNameFor(to, from)]),
    );
    for (const [i, { to }] of pairs.entries()) {
      expect((await store.getTask(tasks[i]!.id))?.state).toBe(to);
    }
  });

  it('refuses every illegal transition naming task and states, and still applies the rest', async () => {
    const pairs = TASK_STATES.flatMap((from) =>
      TASK_STATES.filter((to) => !TRANSITIONS[from].includes(to)).map((to) => ({ from, to })),
    );
    const tasks = pairs.map(({ from, to }) =>
      newTask(`${from}-${to}`, { state: from === 'BACKLOG' ? 'BACKLOG' : 'PENDING' }),
    );
    const legal = newTask('legal');
    await store.createGoal(newGoal(), [...tasks, legal]);
    await store.applyChanges(pairs.flatMap(({ from }, i) => pathChanges(tasks[i]!.id, from)));

    const unknown = { taskId: randomUUID(), to: 'ASSIGNED' as const, at: at() };
    const result = await store.applyChanges([
      ...pairs.map(({ to }, i) => ({ taskId: tasks[i]!.id, to, at: at(2), attempt: 1 })),
      unknown,
      { taskId: legal.id, to: 'ASSIGNED', at: at(2), attempt: 1 },
    ]);
    expect(result.events.map((e) => [e.taskId, e.toState])).toEqual([[legal.id, 'ASSIGNED']]);
    expect(result.rejected).toHaveLength(pairs.length + 1);
    for (const [i, { from, to }] of pairs.entries()) {
      const { error } = result.rejected[i]!;
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect(error).toMatchObject({ taskId: tasks[i]!.id, from, to });
      expect((await store.getTask(tasks[i]!.id))?.state).toBe(from);
    }
    expect(result.rejected[pairs.length]!.error).toBeInstanceOf(NotFoundError);
    expect(result.rejected[pairs.length]!.change).toBe(unknown);
  });

  it('applies a batch of 10,000 transitions with their metrics, results and agents', async () => {
    const tasks = Array.from({ length: 2500 }, (_, i) => newTask(`t${i}`, { type: `bulk` }));
    const goal = newGoal();
    await store.createGoal(goal, tasks);
    const before = await store.lastSeq();
    const changes: TaskChange[] = [];
    for (const phase of ['ASSIGNED', 'ACTIVE', 'progress', 'DONE'] as const) {
      for (const [i, task] of tasks.entries()) {
        const base = { taskId: task.id, at: at(10), attempt: 1, agentId: `agent-${i % 4}` };
        if (phase === 'ASSIGNED')
          changes.push({ ...base, to: 'ASSIGNED', metrics: { claimedAt: at(10), waitMs: 7 } });
        if (phase === 'ACTIVE')
          changes.push({ ...base, to: 'ACTIVE', metrics: { startedAt: at(11) } });
        if (phase === 'progress') changes.push({ ...base, to: 'ACTIVE', progress: { pct: 50 } });
        if (phase === 'DONE') {
          changes.push({
            ...base,
            to: 'DONE',
            at: at(20),
            result: { ok: true, i },
            metrics: {
              finishedAt: at(20),
              durationMs: 9,
              cpuMs: 3,
              peakRssBytes: 5_000_000_000,
              qualityScore: 0.75,
            },
          });
        }
      }
    }
    const result = await store.applyChanges(changes);
    expect(result.rejected).toEqual([]);
    expect(result.events).toHaveLength(10000);
    expect(result.events.map((e) => e.seq)).toEqual(
      Array.from({ length: 10000 }, (_, i) => before + 1 + i),
    );
    expect(result.events[2500]).toMatchObject({
      event: 'updated',
      fromState: 'ASSIGNED',
      toState: 'ACTIVE',
    });
    expect(result.events[5000]).toMatchObject({
      event: 'updated',
      fromState: 'ACTIVE',
      toState: 'ACTIVE',
    });
    expect(result.events[5000]!.detail).toEqual({ progress: { pct: 50 } });
    expect(await store.lastSeq()).toBe(before + 10000);

    const done = await store.findTasks({ goalId: goal.id, state: 'DONE', limit: 5000 });
    expect(done).toHaveLength(2500);
    const one = await store.getTask(tasks[6]!.id);
    expect(one).toMatchObject({
      state: 'DONE',
      attempt: 1,
      agentId: 'agent-2',
      result: { ok: true, i: 6 },
      progress: { pct: 50 },
      error: null,
      waitMs: 7,
      durationMs: 9,
      cpuMs: 3,
      peakRssBytes: 5_000_000_000,
      qualityScore: 0.75,
    });
    expect(one!.claimedAt).toEqual(at(10));
    expect(one!.startedAt).toEqual(at(11));
    expect(one!.finishedAt).toEqual(at(20));
    expect(one!.updatedAt).toEqual(at(20));
  });

  it('ignores a stale attempt or epoch: not applied, listed, no event', async () => {
    const task = newTask('flaky');
    await store.createGoal(newGoal(), [task]);
    const id = task.id;
    await store.applyChanges([
      { taskId: id, to: 'ASSIGNED', at: at(), attempt: 1 },
      { taskId: id, to: 'ACTIVE', at: at(), attempt: 1 },
      { taskId: id, to: 'PENDING', at: at(), attempt: 1, error: { message: 'boom' } },
      { taskId: id, to: 'ASSIGNED', at: at(), attempt: 2 },
    ]);
    const late = { taskId: id, to: 'DONE' as const, at: at(), attempt: 1 };
    const result = await store.applyChanges([
      late,
      { taskId: id, to: 'ACTIVE', at: at(), attempt: 2 },
    ]);
    expect(result.stale).toEqual([late]);
    expect(result.events.map((e) => [e.toState, e.attempt])).toEqual([['ACTIVE', 2]]);
    expect(await store.getTask(id)).toMatchObject({ state: 'ACTIVE', attempt: 2, epoch: 0 });

    // An explicit retry opens epoch 1; a straggler of epoch 0 is stale whatever its attempt.
    await store.applyChanges([
      { taskId: id, to: 'FAILED', at: at(), attempt: 2, error: { message: 'final' } },
      { taskId: id, to: 'PENDING', at: at(), epoch: 1, actor: 'cli', reason: 'retry' },
    ]);
    expect(await store.getTask(id)).toMatchObject({
      state: 'PENDING',
      epoch: 1,
      attempt: 0,
      error: null,
    });
    const straggler = { taskId: id, to: 'ASSIGNED' as const, at: at(), epoch: 0, attempt: 3 };
    const after = await store.applyChanges([straggler]);
    expect(after).toEqual({ events: [], rejected: [], stale: [straggler] });
    const fresh = await store.applyChanges([
      { taskId: id, to: 'ASSIGNED', at: at(), epoch: 1, attempt: 1 },
    ]);
    expect(fresh.events).toHaveLength(1);
    expect(await store.getTask(id)).toMatchObject({ state: 'ASSIGNED', epoch: 1, attempt: 1 });
  });

  it('re-queues a PENDING task only as a new epoch: PENDING → PENDING is refused within one', async () => {
    const task = newTask('waiting-retry');
    await store.createGoal(newGoal(), [task]);
    const id = task.id;
    await store.applyChanges([
      { taskId: id, to: 'ASSIGNED', at: at(), attempt: 2 },
      { taskId: id, to: 'ACTIVE', at: at(), attempt: 2 },
      { taskId: id, to: 'PENDING', at: at(), attempt: 2, error: { message: 'boom' } },
    ]);
    const sameEpoch = { taskId: id, to: 'PENDING' as const, at: at(), attempt: 2 };
    const refused = await store.applyChanges([sameEpoch]);
    expect(refused.rejected.map((r) => r.error)).toEqual([
      expect.objectContaining({ from: 'PENDING', to: 'PENDING' }),
    ]);

    const requeued = await store.applyChanges([
      { taskId: id, to: 'PENDING', at: at(), epoch: 1, attempt: 0, actor: 'recover' },
      { taskId: id, to: 'ASSIGNED', at: at(), attempt: 1 },
    ]);
    expect(requeued.rejected).toEqual([]);
    expect(requeued.events.map((e) => [e.fromState, e.toState, e.attempt, e.actor])).toEqual([
      ['PENDING', 'PENDING', 0, 'recover'],
      ['PENDING', 'ASSIGNED', 1, null],
    ]);
    expect(await store.getTask(id)).toMatchObject({
      state: 'ASSIGNED',
      epoch: 1,
      attempt: 1,
      error: null,
    });
  });

  it('writes the cursor with its batch, also when every change was refused', async () => {
    expect(await store.getCursor('mirror')).toBeNull();
    const task = newTask('c');
    await store.createGoal(newGoal(), [task]);
    await store.applyChanges([{ taskId: task.id, to: 'ASSIGNED', at: at() }], {
      name: 'mirror',
      value: '1-0',
    });
    expect(await store.getCursor('mirror')).toBe('1-0');
    const refused = await store.applyChanges([{ taskId: task.id, to: 'BACKLOG', at: at() }], {
      name: 'mirror',
      value: '2-0',
    });
    expect(refused.rejected).toHaveLength(1);
    expect(await store.getCursor('mirror')).toBe('2-0');
    expect(await store.getCursor('other')).toBeNull();
  });

  it('answers the queries: by goal, state, type, pages, counts, goals and agents', async () => {
    const countsBefore = await store.countByState();
    expect(Object.keys(countsBefore).sort()).toEqual([...TASK_STATES].sort());
    const goal = newGoal(`q-${randomUUID()}`);
    const tasks = [
      newTask('a1', { type: 'qa' }),
      newTask('a2', { type: 'qa' }),
      newTask('b1', { type: 'qb', state: 'BACKLOG' }),
    ];
    await store.createGoal(goal, tasks);
    await store.applyChanges([{ taskId: tasks[0]!.id, to: 'ASSIGNED', at: at() }]);

    const countsAfter = await store.countByState();
    expect(countsAfter.PENDING - countsBefore.PENDING).toBe(1);
    expect(countsAfter.ASSIGNED - countsBefore.ASSIGNED).toBe(1);
    expect(countsAfter.BACKLOG - countsBefore.BACKLOG).toBe(1);
    const byType = await store.countByType();
    expect(byType.qa).toMatchObject({ PENDING: 1, ASSIGNED: 1, DONE: 0 });
    expect(byType.qb).toMatchObject({ BACKLOG: 1, PENDING: 0 });

    const keys = async (filter: Parameters<TaskRegistry['findTasks']>[0]) =>
      (await store.findTasks(filter)).map((t) => t.key);
    expect(await keys({ goalId: goal.id })).toEqual(['a1', 'a2', 'b1']);
    expect(await keys({ goalId: goal.id, type: 'qa' })).toEqual(['a1', 'a2']);
    expect(await keys({ goalId: goal.id, state: ['ASSIGNED', 'BACKLOG'] })).toEqual(['a1', 'b1']);
    expect(await keys({ goalId: goal.id, state: 'PENDING' })).toEqual(['a2']);
    expect(await keys({ goalId: goal.id, limit: 1, offset: 1 })).toEqual(['a2']);
    expect(await keys({ type: 'qb' })).toEqual(['b1']);
    // The same selection without data or results, as the mirror's reconcile walks tasks.
    const states = await store.findTaskStates({ goalId: goal.id, state: ['ASSIGNED', 'BACKLOG'] });
    expect(states).toEqual(
      (await store.findTasks({ goalId: goal.id, state: ['ASSIGNED', 'BACKLOG'] })).map((t) => ({
        id: t.id,
        goalId: t.goalId,
        state: t.state,
        attempt: t.attempt,
        epoch: t.epoch,
      })),
    );
    expect(states.map((t) => t.state)).toEqual(['ASSIGNED', 'BACKLOG']);
    expect(await store.findTaskStates({ goalId: goal.id, state: [] })).toEqual([]);

    expect(await store.getGoal(randomUUID())).toBeNull();
    expect(await store.getTask(randomUUID())).toBeNull();
    const done = await store.setGoalState(goal.id, 'DONE', at(30));
    expect(done).toMatchObject({ id: goal.id, state: 'DONE', finishedAt: at(30) });
    expect((await store.listGoals({ state: 'DONE' })).map((g) => g.id)).toEqual([goal.id]);
    expect((await store.listGoals({ limit: 1000 })).length).toBeGreaterThan(4);
    await expect(store.setGoalState(randomUUID(), 'DONE', at())).rejects.toBeInstanceOf(
      NotFoundError,
    );

    const agent: AgentInfo = {
      id: 'dev-1',
      capabilities: ['development', 'frontend'],
      host: 'box',
      pid: 42,
      startedAt: at(),
      lastSeenAt: at(1),
      running: [],
      concurrency: 2,
      breakers: { development: 'closed' },
    };
    await store.upsertAgent(agent);
    await store.upsertAgent({
      ...agent,
      lastSeenAt: at(5),
      running: ['t1'],
      breakers: { development: 'open' },
    });
    expect(await store.listAgents()).toEqual([
      { ...agent, lastSeenAt: at(5), running: ['t1'], breakers: { development: 'open' } },
    ]);
  });

  it('keeps a goal budget copy by revision: newer wins, older and repeated ones change nothing', async () => {
    const goal = { ...newGoal(), budget: { tokens: 100 } };
    await store.createGoal(goal, [newTask('spend')]);
    expect(await store.getGoal(goal.id)).toMatchObject({
      budget: { tokens: 100 },
      usage: null,
      usageRev: 0,
      state: 'ACTIVE',
    });
    const usage = { tokens: 100, costUsd: 0.5, wallMs: 1200 };
    const hard = {
      rev: 3,
      budget: { tokens: 100 },
      usage,
      state: 'PAUSED' as const,
      event: {
        name: 'budget' as const,
        actor: null,
        at: at(5),
        detail: { level: 'hard' as const, usage, budget: { tokens: 100 }, taskId: 'x', running: 2 },
      },
    };
    const event = await store.updateGoalBudget(goal.id, hard);
    expect(event).toMatchObject({
      taskId: goal.id,
      goalId: goal.id,
      event: 'budget',
      fromState: 'ACTIVE',
      toState: 'PAUSED',
      detail: { budget: { level: 'hard', usage, running: 2 } },
    });
    // The same copy again, or an older one: nothing changes, no event.
    expect(await store.updateGoalBudget(goal.id, hard)).toBeNull();
    const older = { rev: 2, budget: null, usage, state: 'ACTIVE' as const };
    expect(await store.updateGoalBudget(goal.id, older)).toBeNull();
    expect(await store.getGoal(goal.id)).toMatchObject({
      state: 'PAUSED',
      usageRev: 3,
      usage,
      budget: { tokens: 100 },
    });
    expect((await store.eventsAfter(event!.seq - 1)).map((e) => e.seq)).toEqual([event!.seq]);
    // A goal that has ended keeps its end.
    await store.setGoalState(goal.id, 'CANCELLED', at(9));
    const late = { rev: 4, budget: { tokens: 500 }, usage, state: 'ACTIVE' as const };
    expect(await store.updateGoalBudget(goal.id, late)).toBeNull();
    expect(await store.getGoal(goal.id)).toMatchObject({
      state: 'CANCELLED',
      usageRev: 4,
      budget: { tokens: 500 },
    });
    expect(await store.updateGoalBudget('no-such-goal', late)).toBeNull();
  });

  it('keeps the event log gap-free from seq 1 to lastSeq, refusals and stale changes included', async () => {
    const last = await store.lastSeq();
    const seqs: number[] = [];
    for (let after = 0; ;) {
      const page = await store.eventsAfter(after, 5000);
      if (page.length === 0) break;
      seqs.push(...page.map((e) => e.seq));
      after = page.at(-1)!.seq;
    }
    expect(seqs).toHaveLength(last);
    expect(seqs.every((seq, i) => seq === i + 1)).toBe(true);
    expect((await store.eventsAfter(last - 2)).map((e) => e.seq)).toEqual([last - 1, last]);
  });

  it('keeps everything after close and reopen', async () => {
    const snapshot = async (s: TaskRegistry) => ({
      lastSeq: await s.lastSeq(),
      counts: await s.countByState(),
      byType: await s.countByType(),
      goals: await s.listGoals({ limit: 1000 }),
      tasks: await s.findTasks({ limit: 100000 }),
      events: await s.eventsAfter(0, 100000),
      cursor: await s.getCursor('mirror'),
      agents: await s.listAgents(),
    });
    const before = await snapshot(store);
    await store.close();
    store = fixture.make();
    await store.open();
    await store.open();
    expect(await snapshot(store)).toEqual(before);
  });

  it('deletes a goal with its tasks and events', async () => {
    const goal = newGoal('doomed');
    const task = newTask('gone');
    await store.createGoal(goal, [task]);
    const seq = await store.lastSeq();
    await store.deleteGoal(goal.id);
    expect(await store.getGoal(goal.id)).toBeNull();
    expect(await store.getTask(task.id)).toBeNull();
    expect(await store.getGoalByKey('doomed')).toBeNull();
    expect(await store.eventsAfter(seq - 1)).toEqual([]);
    // The counter never goes back: a later event never reuses a deleted seq.
    const next = await store.createGoal(newGoal(), [newTask('after')]);
    expect(next.events[0]!.seq).toBe(seq + 1);
  });

  it('creates a deferred goal without taking a seq, so deleting it leaves no hole', async () => {
    const before = await store.lastSeq();
    const goal = newGoal('refused');
    const created = await store.createGoal(goal, [newTask('a'), newTask('b')], 'api:ops', {
      deferRecord: true,
    });
    expect(created.events).toEqual([]);
    expect(created.goal).toMatchObject({ createdBy: 'api:ops', recordedAt: null });
    expect(await store.lastSeq()).toBe(before);
    await store.deleteGoal(goal.id);
    const next = await store.createGoal(newGoal(), [newTask('after')], 'cli');
    expect(next.events.map((e) => e.seq)).toEqual([before + 1]);
    expect(next.goal.recordedAt).toEqual(next.goal.createdAt);
  });

  it('records a deferred goal once: by recordGoal, or before the first change of its tasks', async () => {
    const tasks = [newTask('a'), newTask('b', { dependsOn: ['a'], state: 'BACKLOG' })];
    const byCall = newGoal();
    await store.createGoal(byCall, tasks, 'supervisor', { deferRecord: true });
    const recorded = await store.recordGoal(byCall.id);
    expect(recorded.map((e) => [e.taskId, e.event, e.toState, e.actor])).toEqual([
      [tasks[0]!.id, 'new', 'PENDING', 'supervisor'],
      [tasks[1]!.id, 'new', 'BACKLOG', 'supervisor'],
    ]);
    expect(await store.recordGoal(byCall.id)).toEqual([]);
    expect((await store.getGoal(byCall.id))!.recordedAt).not.toBeNull();

    // The mirror met a change first: the goal's `new` events come before it, in one batch.
    const task = newTask('c');
    const byChange = newGoal();
    await store.createGoal(byChange, [task], 'api:ops', { deferRecord: true });
    const seq = await store.lastSeq();
    const result = await store.applyChanges([
      { taskId: task.id, to: 'ASSIGNED', at: at(), attempt: 1 },
    ]);
    expect(result.events.map((e) => [e.seq, e.event, e.actor])).toEqual([
      [seq + 1, 'new', 'api:ops'],
      [seq + 2, 'claimed', null],
    ]);
    expect(await store.recordGoal(byChange.id)).toEqual([]);
    expect((await store.eventsAfter(seq)).map((e) => e.seq)).toEqual([seq + 1, seq + 2]);
  });

  it('keeps capability limits: replaced whole, listed by capability, deleted, kept across reopen', async () => {
    const at0 = new Date('2026-12-01T10:00:00.000Z');
    await store.putCapabilityLimits({ capability: 'zeta', limits: { perKey: 2 }, updatedAt: at0 });
    await store.putCapabilityLimits({
      capability: 'alpha',
      limits: { concurrency: 4, rate: { max: 60, durationMs: 60000 } },
      updatedAt: at0,
    });
    const later = new Date('2026-12-01T11:00:00.000Z');
    await store.putCapabilityLimits({
      capability: 'alpha',
      limits: { concurrency: 8 },
      updatedAt: later,
    });
    const again = fixture.make();
    await again.open();
    try {
      expect(await again.listCapabilityLimits()).toEqual([
        { capability: 'alpha', limits: { concurrency: 8 }, updatedAt: later },
        { capability: 'zeta', limits: { perKey: 2 }, updatedAt: at0 },
      ]);
    } finally {
      await again.close();
    }
    expect(await store.deleteCapabilityLimits('zeta')).toBe(true);
    expect(await store.deleteCapabilityLimits('zeta')).toBe(false);
    expect((await store.listCapabilityLimits()).map((r) => r.capability)).toEqual(['alpha']);
    await store.deleteCapabilityLimits('alpha');
  });
}
