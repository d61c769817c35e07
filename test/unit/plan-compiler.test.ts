import type { FlowJob, FlowJobNode } from 'bullmq';
import { compileGoal } from '../../src/queues/compiler';
import { resolvePlan } from '../../src/queues/plan-schema';

const t = (key: string, dependsOn: string[] = [], extra: object = {}) => ({
  key,
  title: key,
  type: 'dev',
  dependsOn,
  ...extra,
});

function flatten(
  node: FlowJob | FlowJobNode,
  parent: string | null,
  out = new Map<string, { parent: string | null; node: FlowJobNode | FlowJob }>(),
) {
  out.set(node.opts!.jobId!, { parent, node });
  for (const c of node.children ?? []) flatten(c, node.opts!.jobId!, out);
  return out;
}

describe('compileGoal', () => {
  const plan = resolvePlan({
    goal: 'g',
    tasks: [
      t('design', [], { priority: 9 }),
      t('backend', ['design']),
      t('frontend', ['design'], { optional: true }),
      t('tests', ['backend', 'frontend']),
    ],
  });
  const { flow, links } = compileGoal({ goalId: 'g-1', title: 'g', shard: 0, tasks: plan.tasks });
  const jobs = flatten(flow, null);

  it('puts every task under the root, each under its first dependent, sinks under the root', () => {
    expect(flow.queueName).toBe('_goals');
    expect(jobs.get('g-1.tests')!.parent).toBe('g-1');
    expect(jobs.get('g-1.backend')!.parent).toBe('g-1.tests');
    expect(jobs.get('g-1.frontend')!.parent).toBe('g-1.tests');
    expect(jobs.get('g-1.design')!.parent).toBe('g-1.backend');
  });

  it('links a further dependent to the shared task instead of adding a job for it', () => {
    expect(links).toEqual([
      {
        source: { type: 'dev', taskId: 'g-1.design' },
        dependent: { type: 'dev', taskId: 'g-1.frontend' },
      },
    ]);
    expect(jobs.size).toBe(5); // the root and the four tasks: no gate job
    expect(jobs.get('g-1.design')!.node.data.links).toEqual([['frontend', 'dev']]);
    expect(jobs.get('g-1.frontend')!.node.data).not.toHaveProperty('links');
    expect(jobs.get('g-1.frontend')!.node.children).toBeUndefined();
  });

  it('maps priorities and failure options', () => {
    expect(jobs.get('g-1.design')!.node.opts).toMatchObject({
      priority: 2,
      attempts: 3,
      failParentOnFailure: true,
    });
    expect(jobs.get('g-1.frontend')!.node.opts).toMatchObject({ ignoreDependencyOnFailure: true });
    expect(jobs.get('g-1.tests')!.node.opts).toMatchObject({ continueParentOnFailure: true });
    expect(jobs.get('g-1.tests')!.node.opts).not.toHaveProperty('removeOnComplete');
  });
});
