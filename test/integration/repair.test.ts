/**
 * Repair (`"onFailure": "replan"`, DESIGN.md "Living goals") by the template planner on two
 * real worker processes with the mirror on SQLite: a task that fails for good is retried as
 * `<key>.retry1` with the error in its data, and its dependents wait for the retry and get its
 * result under the failed key; a retry that fails too escalates to the `<key>.resolve` approval —
 * approving runs `<key>.retry2`, rejecting fails the goal; `maxReplans` bounds it; the revisions
 * show in `goal show --json` and the audit log.
 */
import type { PlanSpec, TaskSpec } from '../../src/entities/task-model';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { approveTask, rejectTask } from '../../src/interface/operations';
import { revisionsOf } from '../../src/queues/revisions';
import { startDagHarness, type DagHarness } from '../helpers/dag-harness';
import { task } from '../helpers/dag-plans';
import { waitFor } from '../helpers/wait-for';

describe('repair on failure by the template planner', () => {
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

  const plan = (failKeys: string[], extra: Partial<PlanSpec> = {}): PlanSpec => ({
    goal: 'repair me',
    onFailure: 'replan',
    ...extra,
    tasks: [
      task('design', 'a'),
      task('api', 'b', ['design'], { attempts: 1, data: { failKeys } }),
      task('deploy', 'c', ['api']),
    ],
  });

  const sqlGoal = (goalId: string, state: string) =>
    waitFor(
      `goal ${goalId} ${state} in SQL`,
      async () => {
        const g = await h.supervisor.getGoal(goalId);
        return g.goal.state === state ? g : null;
      },
      { timeoutMs: 60000 },
    );

  const runs = async (goalId: string) =>
    (await h.records()).filter((r) => r.taskId.startsWith(`${goalId}.`));

  it('retries a failed task as <key>.retry1; its dependents get the retry’s result', async () => {
    const { goalId } = await h.supervisor.submitPlan(plan(['api']));
    expect((await h.goalEnd(goalId)).state).toBe('completed');
    const records = await runs(goalId);
    const retry = records.find((r) => r.key === 'api.retry1')!;
    expect(retry.deps).toEqual({ design: { from: 'design' } });
    const deploy = records.find((r) => r.key === 'deploy')!;
    expect(deploy.deps).toEqual({
      api: { from: 'api.retry1' },
      'api.retry1': { from: 'api.retry1' },
    });
    expect(records.filter((r) => r.key === 'deploy')).toHaveLength(1);

    const goal = await sqlGoal(goalId, 'DONE');
    const byKey = new Map(goal.tasks.map((t) => [t.key, t]));
    expect(byKey.get('api')).toMatchObject({ state: 'DONE', result: { from: 'api.retry1' } });
    expect(byKey.get('api.retry1')).toMatchObject({ state: 'DONE', spawnedBy: `${goalId}.api` });
    expect(byKey.get('api.retry1')!.data).toMatchObject({
      failKeys: ['api'],
      error: { message: 'task api failed on purpose' },
      repair: { revision: 1, of: 'api', replaces: 'api', by: 'repair:template' },
    });
    expect(revisionsOf(goal.tasks)).toEqual([
      {
        revision: 1,
        cause: { task: 'api', error: 'task api failed on purpose' },
        added: ['api.retry1'],
        replacement: 'api.retry1',
        cancelled: [],
        actor: 'repair:template',
        at: expect.any(Date),
      },
    ]);
    const events = (await h.registry.eventsAfter(0, 1_000_000)).filter(
      (e) => e.taskId === `${goalId}.api.retry1` && e.event === 'new',
    );
    expect(events.map((e) => e.actor)).toEqual(['repair:template']);
  });

  it('escalates a failed retry to an approval; approving runs <key>.retry2', async () => {
    const { goalId } = await h.supervisor.submitPlan(plan(['api', 'api.retry1']));
    const resolveId = `${goalId}.api.resolve`;
    await waitFor('the resolve approval in SQL', async () =>
      (await h.registry.getTask(resolveId))?.state === 'PENDING' ? true : null,
    );
    await approveTask(
      { store: h.registry, coordinator: h.coordinator },
      { taskId: resolveId, note: 'fixed the config' },
      'cli:ops',
    );
    expect((await h.goalEnd(goalId)).state).toBe('completed');
    const deploy = (await runs(goalId)).find((r) => r.key === 'deploy')!;
    expect(deploy.deps.api).toEqual({ from: 'api.retry2' });
    const goal = await sqlGoal(goalId, 'DONE');
    expect(revisionsOf(goal.tasks).map((r) => [r.revision, r.cause.task, r.added])).toEqual([
      [1, 'api', ['api.retry1']],
      [2, 'api.retry1', ['api.resolve', 'api.retry2']],
    ]);
    expect(goal.tasks.find((t) => t.key === 'api.resolve')).toMatchObject({
      state: 'DONE',
      result: { approved: true, by: 'cli:ops', note: 'fixed the config' },
    });
  });

  it('fails the goal when the approval is rejected', async () => {
    const { goalId } = await h.supervisor.submitPlan(plan(['api', 'api.retry1']));
    const resolveId = `${goalId}.api.resolve`;
    await waitFor('the resolve approval in SQL', async () =>
      (await h.registry.getTask(resolveId))?.state === 'PENDING' ? true : null,
    );
    await rejectTask(
      { store: h.registry, coordinator: h.coordinator },
      { taskId: resolveId, reason: 'not worth it' },
      'cli:ops',
    );
    expect((await h.goalEnd(goalId)).state).toBe('failed');
    const goal = await sqlGoal(goalId, 'FAILED');
    expect(goal.tasks.find((t) => t.key === 'api.resolve')!.state).toBe('FAILED');
    expect((await runs(goalId)).map((r) => r.key)).not.toContain('deploy');
  });

  it('stops repairing after maxReplans revisions', async () => {
    const { goalId } = await h.supervisor.submitPlan(
      plan(['api', 'api.retry1'], { maxReplans: 1 }),
    );
    expect((await h.goalEnd(goalId)).state).toBe('failed');
    const goal = await sqlGoal(goalId, 'FAILED');
    expect(revisionsOf(goal.tasks).map((r) => r.revision)).toEqual([1]);
    expect(goal.tasks.map((t) => t.key)).not.toContain('api.resolve');
  });

  it('fails as before in a goal that does not replan', async () => {
    const tasks: TaskSpec[] = plan(['api']).tasks;
    const { goalId } = await h.supervisor.submitPlan({ goal: 'no repair', tasks });
    expect((await h.goalEnd(goalId)).state).toBe('failed');
    const goal = await sqlGoal(goalId, 'FAILED');
    expect(goal.tasks.map((t) => t.key).sort()).toEqual(['api', 'deploy', 'design']);
  });
});
