/**
 * Plans run on two real worker processes: every task exactly once, never before all of its
 * dependencies ended, always with all of their results — whether a dependency is its BullMQ child
 * or a link (see src/queues/links.ts).
 */
import type { JobNode } from 'bullmq';
import type { PlanSpec } from '../../src/entities/task-model';
import { GOALS_QUEUE } from '../../src/queues/names';
import { startDagHarness, type DagHarness } from '../helpers/dag-harness';
import {
  chain,
  checkRun,
  diamond,
  fanOutIn,
  fiveDependents,
  randomDag,
} from '../helpers/dag-plans';

describe('a plan on two worker processes', () => {
  let h: DagHarness;

  beforeAll(async () => {
    h = await startDagHarness(['a', 'b', 'c']);
  });

  afterAll(async () => {
    await h?.close();
  });

  async function runToEnd(plan: PlanSpec): Promise<void> {
    const { goalId } = await h.supervisor.submitPlan(plan);
    const end = await h.goalEnd(goalId, 120000);
    expect(end).toEqual({ state: 'completed', reason: '' });
    const mine = (await h.records()).filter((r) => r.taskId.startsWith(`${goalId}.`));
    expect(checkRun(plan, mine)).toEqual([]);
  }

  it('keeps every task of a goal beneath its root job (what Bull Board shows)', async () => {
    const plan = randomDag(60, 7);
    const { goalId } = await h.supervisor.submitPlan(plan);
    await h.goalEnd(goalId);
    const tree = await h.coordinator.flowProducer(0).getFlow({
      id: goalId,
      queueName: GOALS_QUEUE,
      prefix: h.coordinator.bullPrefix(0),
      maxChildren: 10000,
    });
    const ids = new Set<string>();
    const walk = (node: JobNode): void => {
      ids.add(node.job.id!);
      for (const child of node.children ?? []) walk(child);
    };
    walk(tree);
    for (const t of plan.tasks) expect(ids).toContain(`${goalId}.${t.key}`);
  });

  it('runs a diamond: the shared task once, the join with both results', async () => {
    await runToEnd(diamond());
  });

  it('runs a chain of 100 in order', async () => {
    await runToEnd(chain(100));
  });

  it('runs one task with 5 dependents, each getting its result (one tree link, four links)', async () => {
    await runToEnd(fiveDependents());
  });

  it('runs a fan-out/fan-in of 1,000', async () => {
    await runToEnd(fanOutIn(1000));
  }, 120000);

  it.each([1, 2, 3])(
    'runs a random DAG of 300 tasks over 3 capabilities (seed %i)',
    async (seed) => {
      await runToEnd(randomDag(300, seed));
    },
    120000,
  );
});
