/**
 * Repair by the LLM planner (issue 15 point 4) against a local HTTP server that speaks OpenAI's
 * chat-completions API (the one fake: the model), with a real agent, Redis and the mirror on
 * SQLite: a valid patch is applied as revision 1 and its replacement's result reaches the
 * dependents; an invalid patch is asked for again with the validation error, and two invalid ones
 * fall back to the template repair (`<key>.retry1`).
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import type { Json, TaskSpec } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { LlmRepairPlanner } from '../../src/queues/planners/llm-repair';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { templateRepair } from '../../src/queues/repair';
import { revisionsOf } from '../../src/queues/revisions';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const t = (key: string, extra: Partial<TaskSpec> = {}): TaskSpec => ({
  key,
  title: `task ${key}`,
  type: 'work',
  ...extra,
});

describe('repair by the LLM planner', () => {
  let server: Server;
  let answers: string[] = [];
  const requests: Array<{ messages: Array<{ role: string; content: string }> }> = [];
  const dir = mkdtempSync(join(tmpdir(), 'agentq-repair-llm-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix: uniquePrefix('repairllm') });
  const supervisor = new SupervisorAgent(registry, coordinator, {});
  const seen: Record<string, { [key: string]: Json }> = {};
  const fallbacks: string[] = [];
  let agent: AutonomousAgent;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push(JSON.parse(body) as (typeof requests)[number]);
        const content = answers.shift() ?? 'no more answers';
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    agent = new AutonomousAgent({
      agentId: 'repair-llm-1',
      capabilities: ['work'],
      redisCoordinator: coordinator,
      taskRegistry: registry,
      concurrency: 2,
      breaker: false,
      repairPlanner: new LlmRepairPlanner({
        url,
        model: 'test-model',
        fallback: templateRepair,
        onFallback: (reason) => fallbacks.push(reason),
      }),
      handlers: {
        work: async (task, ctx) => {
          if (task.key === 'api') throw new UnrecoverableError('the schema is missing a column');
          seen[task.key] = ctx.dependencies;
          return { from: task.key };
        },
      },
    });
    await agent.start();
  });

  afterAll(async () => {
    await agent.close({ graceMs: 1000 });
    await new Promise((resolve) => server.close(resolve));
    await coordinator.close();
    await registry.close();
  });

  beforeEach(() => {
    requests.length = 0;
    fallbacks.length = 0;
  });

  const plan = {
    goal: 'users API',
    onFailure: 'replan' as const,
    tasks: [
      t('design'),
      t('api', { dependsOn: ['design'], attempts: 1 }),
      t('deploy', { dependsOn: ['api'] }),
    ],
  };

  const done = (goalId: string) =>
    waitFor(
      `goal ${goalId} DONE in SQL`,
      async () => {
        const g = await supervisor.getGoal(goalId);
        return g.goal.state === 'DONE' ? g : null;
      },
      { timeoutMs: 60000 },
    );

  it('applies a valid patch from the model as revision 1', async () => {
    answers = [
      '```json\n' +
        JSON.stringify({
          tasks: [
            { key: 'migrate', title: 'Add the column', type: 'work', dependsOn: ['design'] },
            {
              key: 'api-v2',
              title: 'API again',
              type: 'work',
              dependsOn: ['migrate'],
              replaces: 'api',
            },
          ],
        }) +
        '\n```',
    ];
    const { goalId } = await supervisor.submitPlan(plan);
    const goal = await done(goalId);
    expect(requests).toHaveLength(1);
    const asked = JSON.parse(requests[0]!.messages[1]!.content) as Record<string, unknown>;
    expect(asked).toMatchObject({
      goal: 'users API',
      failed: { key: 'api', dependsOn: ['design'] },
      error: 'the schema is missing a column',
      dependencyResults: { design: { from: 'design' } },
    });
    expect(seen.deploy).toMatchObject({ api: { from: 'api-v2' }, 'api-v2': { from: 'api-v2' } });
    expect(seen['api-v2']).toEqual({ migrate: { from: 'migrate' } });
    expect(revisionsOf(goal.tasks)).toEqual([
      expect.objectContaining({
        revision: 1,
        cause: { task: 'api', error: 'the schema is missing a column' },
        added: expect.arrayContaining(['migrate', 'api-v2']),
        replacement: 'api-v2',
        actor: 'repair:llm',
      }),
    ]);
    expect(fallbacks).toEqual([]);
  });

  it('cancels the not-started tasks a patch names, and the goal still ends DONE', async () => {
    answers = [
      JSON.stringify({
        tasks: [
          {
            key: 'api-v3',
            title: 'API, smaller',
            type: 'work',
            dependsOn: ['design'],
            replaces: 'api',
          },
        ],
        cancel: ['docs'],
      }),
    ];
    const { goalId } = await supervisor.submitPlan({
      ...plan,
      tasks: [
        ...plan.tasks,
        t('docs', { dependsOn: ['deploy'] }),
        t('blog', { dependsOn: ['docs'] }),
      ],
    });
    const goal = await done(goalId);
    const state = new Map(goal.tasks.map((x) => [x.key, x.state]));
    expect(Object.fromEntries(state)).toEqual({
      design: 'DONE',
      api: 'DONE',
      'api-v3': 'DONE',
      deploy: 'DONE',
      docs: 'CANCELLED',
      blog: 'CANCELLED',
    });
    expect(revisionsOf(goal.tasks)).toEqual([
      expect.objectContaining({ revision: 1, replacement: 'api-v3', cancelled: ['docs'] }),
    ]);
    const cancelledBy = (await registry.eventsAfter(0, 1_000_000)).find(
      (e) => e.taskId === `${goalId}.docs` && e.toState === 'CANCELLED',
    );
    expect(cancelledBy?.actor).toBe('repair:llm');
  });

  it('asks again with the validation error, then falls back to the template repair', async () => {
    answers = [
      JSON.stringify({
        tasks: [
          { key: 'fix', title: 'Fix', type: 'work', dependsOn: ['nowhere'], replaces: 'api' },
        ],
      }),
      JSON.stringify({ tasks: [{ key: 'fix', title: 'Fix', type: 'work' }] }),
    ];
    const { goalId } = await supervisor.submitPlan(plan);
    // The template's retry (`api.retry1`) succeeds: the handler fails only `api`.
    const goal = await done(goalId);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.messages.at(-1)!.content).toMatch(
      /not a valid patch \(tasks\[0\]\.dependsOn\[0\]: unknown task key 'nowhere'/,
    );
    expect(fallbacks).toEqual([
      expect.stringMatching(/invalid patch from the LLM: exactly one task/),
    ]);
    expect(revisionsOf(goal.tasks).map((r) => [r.actor, r.added])).toEqual([
      ['repair:template', ['api.retry1']],
    ]);
    expect(seen.deploy).toMatchObject({ api: { from: 'api.retry1' } });
  });
});
