import type { FlowJob, FlowJobNode } from 'bullmq';
import { compileFlow } from '../../src/queues/compiler';
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

describe('compileFlow', () => {
  const plan = resolvePlan({
    goal: 'g',
    tasks: [
      t('design', [], { priority: 9 }),
      t('backend', ['design']),
      t('frontend', ['design'], { optional: true }),
      t('tests', ['backend', 'frontend']),
    ],
  });
  const flow = compileFlow({ goalId: 'g-1', title: 'g', shard: 0, tasks: plan.tasks });
  const jobs = flatten(flow, null);

  it('puts every task under the root, each under its first dependent, sinks under the root', () => {
    expect(flow.queueName).toBe('_goals');
    expect(jobs.get('g-1.tests')!.parent).toBe('g-1');
    expect(jobs.get('g-1.backend')!.parent).toBe('g-1.tests');
    expect(jobs.get('g-1.frontend')!.parent).toBe('g-1.tests');
    expect(jobs.get('g-1.design')!.parent).toBe('g-1.backend');
  });

  it('gives a further dependent a delayed gate and lists it on the shared task', () => {
    const gate = jobs.get('g-1.design~frontend')!;
    expect(gate.parent).toBe('g-1.frontend');
    expect(gate.node.queueName).toBe('_gates');
    expect(gate.node.opts).toMatchObject({ failParentOnFailure: true, delay: 60000 });
    expect(jobs.get('g-1.design')!.node.data.gates).toEqual(['g-1.design~frontend']);
  });

  it('marks gates removable on success and tells the dependent where to read the result', () => {
    expect(jobs.get('g-1.design')!.node.data.gateRelease).toBe('remove');
    expect(jobs.get('g-1.frontend')!.node.data.gatedSources).toEqual({ design: 'dev' });
    expect(jobs.get('g-1.backend')!.node.data.gatedSources).toBeUndefined();
    expect(jobs.get('g-1.backend')!.node.data.gateRelease).toBeUndefined();
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
