import { resolvePlan } from '../../src/queues/plan-schema';
import { TemplatePlanner } from '../../src/queues/planners/template-planner';

describe('TemplatePlanner', () => {
  const planner = new TemplatePlanner();

  it.each([
    ['Build user authentication system', 'template:feature'],
    ['Fix the login crash on Safari', 'template:bugfix'],
    ['Research vector databases', 'template:research'],
    ['Refactor the billing module', 'template:refactor'],
    ['Write documentation for the API', 'template:docs'],
    ['Make the office plants happy', 'template:generic'],
  ])('plans "%s" with %s, a valid plan', async (goal, name) => {
    const { plan, planner: used } = await planner.plan(goal);
    expect(used).toBe(name);
    expect(() => resolvePlan(plan)).not.toThrow();
  });

  it('makes a feature a DAG: design → backend and frontend → integration tests → review and docs', async () => {
    const { plan } = await planner.plan('Build user authentication system', { key: 'auth' });
    const deps = Object.fromEntries(plan.tasks.map((t) => [t.key, t.dependsOn]));
    expect(deps).toEqual({
      design: [],
      backend: ['design'],
      frontend: ['design'],
      'integration-tests': ['backend', 'frontend'],
      review: ['integration-tests'],
      docs: ['integration-tests'],
    });
    expect(plan.key).toBe('auth');
  });

  it('tries user templates first', async () => {
    const custom = new TemplatePlanner({
      templates: [
        {
          name: 'launch',
          match: ['launch'],
          tasks: [{ key: 'go', title: 'Launch {goal}', type: 'ops' }],
        },
      ],
    });
    const { plan, planner: used } = await custom.plan('launch rocket');
    expect(used).toBe('template:launch');
    expect(plan.tasks[0]!.title).toBe('Launch launch rocket');
  });
});
