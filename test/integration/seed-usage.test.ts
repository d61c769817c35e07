/**
 * The seed's usage example, ported line by line onto the public API (`src/index.ts`, what
 * `import … from 'agentq'` gives), then `createAgentSystem` doing the same wiring from config.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutonomousAgent,
  createAgentSystem,
  InterfaceAgent,
  RedisCoordinator,
  startMirror,
  SupervisorAgent,
  TaskRegistry,
  type TaskHandler,
} from '../../src';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const CAPABILITIES = ['design', 'backend', 'frontend', 'testing', 'review', 'documentation'];

const handler: TaskHandler = async (task, ctx) => ({
  by: ctx.agentId,
  key: task.key,
  saw: Object.keys(ctx.dependencies).sort(),
});

describe("the seed's usage example", () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-seed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs with the seed names, each part closed by close()', async () => {
    const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
    const redis = new RedisCoordinator({ url: REDIS_URL, prefix: uniquePrefix('seed') });
    const supervisor = new SupervisorAgent(registry, redis, {});
    const iface = new InterfaceAgent(registry, redis, { mutations: supervisor });
    const mirror = startMirror({ store: registry, coordinator: redis });
    const dev = new AutonomousAgent({
      agentId: 'dev-1',
      capabilities: CAPABILITIES,
      taskRegistry: registry,
      redisCoordinator: redis,
      handlers: Object.fromEntries(CAPABILITIES.map((c) => [c, handler])),
      concurrency: 2,
    });
    try {
      await dev.start();
      const { goalId, tasks } = await supervisor.executeGoal('Build user authentication system');
      expect(tasks.map((t) => t.key)).toEqual(expect.arrayContaining(['design', 'backend']));

      await waitFor(
        'the goal DONE',
        async () => (await registry.getGoal(goalId))?.state === 'DONE',
        {
          timeoutMs: 30_000,
        },
      );
      const status = await iface.getSystemStatus();
      const report = iface.formatStatusReport(status);
      expect(report).toMatch(/DONE/);

      const integration = tasks.find((t) => t.key === 'integration-tests')!;
      const summary = await iface.getTaskSummary(integration.id);
      expect(summary.task.state).toBe('DONE');
      expect(summary.task.result).toEqual({
        by: 'dev-1',
        key: 'integration-tests',
        saw: ['backend', 'frontend'],
      });

      const agents = await redis.getAllAgents();
      expect(agents.map((a) => a.id)).toContain('dev-1');

      // A task nobody serves stays pending; then the interface cancels it.
      const manual = await iface.createTask({
        title: 'Translate the docs',
        description: 'into French',
        type: 'translation',
        priority: 7,
      });
      await waitFor('the manual task pending', async () =>
        (await redis.getPendingTasks()).some((p) => p.taskId === manual.taskId),
      );
      await iface.cancelTask(manual.taskId);
      await waitFor(
        'the manual task CANCELLED',
        async () => (await registry.getTask(manual.taskId))?.state === 'CANCELLED',
        {
          timeoutMs: 15_000,
        },
      );
      expect(await iface.routeCommand('status')).toMatch(/DONE/);
    } finally {
      await dev.close();
      await mirror.close();
      await iface.close();
      await supervisor.close();
      await redis.close();
      await registry.close();
    }
  });

  it('is wired from configuration by createAgentSystem, with one close()', async () => {
    const system = await createAgentSystem({
      config: {
        REDIS_URL,
        AGENTQ_DB: `sqlite:${join(dir, 'system.db')}`,
        AGENTQ_PREFIX: uniquePrefix('sys'),
      },
    });
    try {
      await system.startAgent({
        agentId: 'all-1',
        capabilities: CAPABILITIES,
        handlers: Object.fromEntries(CAPABILITIES.map((c) => [c, handler])),
      });
      const { goalId } = await system.supervisor.executeGoal('Build user authentication system');
      await waitFor(
        'the goal DONE',
        async () => (await system.registry.getGoal(goalId))?.state === 'DONE',
        {
          timeoutMs: 30_000,
        },
      );
      const events = await system.registry.eventsAfter(0, 10_000);
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    } finally {
      await system.close();
    }
  });
});
