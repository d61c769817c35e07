/**
 * The seed's usage example exactly as DESIGN.md writes it, on the public API (`src/index.ts`, what
 * `import … from 'agentq'` gives), in one process with no mirror started by hand: the status
 * report says DONE. Then `createAgentSystem` doing the same wiring from config.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutonomousAgent,
  createAgentSystem,
  InterfaceAgent,
  RedisCoordinator,
  SupervisorAgent,
  TaskRegistry,
  UnrecoverableError,
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
  const { hostname: host, port } = new URL(REDIS_URL);

  it('runs as DESIGN.md writes it, in one process, and SQL says DONE', async () => {
    // DESIGN.md, line for line (a unique prefix added, as the contract allows).
    const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
    const redis = new RedisCoordinator({ host, port: Number(port), prefix: uniquePrefix('seed') });
    const supervisor = new SupervisorAgent(registry, redis);
    const iface = new InterfaceAgent(registry, redis);
    let flaky = 0;
    const dev = new AutonomousAgent({
      agentId: 'dev-1',
      capabilities: [...CAPABILITIES, 'flaky'],
      taskRegistry: registry,
      redisCoordinator: redis,
      handlers: {
        ...Object.fromEntries(CAPABILITIES.map((c) => [c, handler])),
        // Fails its first run for good, then succeeds: what a retry is for.
        flaky: async () => {
          if (++flaky === 1) throw new UnrecoverableError('not yet');
          return { ran: flaky };
        },
      },
    });
    try {
      await dev.start();
      const { goalId, tasks } = await supervisor.executeGoal('Build user authentication system');
      expect(tasks.map((t) => t.key)).toEqual(expect.arrayContaining(['design', 'backend']));

      // No startMirror, no serve: the agent and the interface run the mirror candidate.
      await waitFor(
        'the goal DONE in SQL',
        async () => (await registry.getGoal(goalId))?.state === 'DONE',
        { timeoutMs: 30_000 },
      );
      const status = await iface.getSystemStatus();
      const report = iface.formatStatusReport(status);
      expect(report).toMatch(/DONE/);
      expect(status.totals).toMatchObject({ BACKLOG: 0, PENDING: 0, DONE: tasks.length });
      expect(status.goals.active).toBe(0);

      const integration = tasks.find((t) => t.key === 'integration-tests')!;
      const summary = await iface.getTaskSummary(integration.id);
      expect(summary.task.state).toBe('DONE');
      expect(summary.task.result).toEqual({
        by: 'dev-1',
        key: 'integration-tests',
        saw: ['backend', 'frontend'],
      });
      expect((await redis.getAllAgents()).map((a) => a.id)).toContain('dev-1');

      // The interface mutates without being handed a supervisor: create, then cancel.
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
        { timeoutMs: 15_000 },
      );
      await expect(iface.retryTask(manual.taskId)).rejects.toThrow(
        /CANCELLED: only a FAILED task can be retried/,
      );

      // And retry: a task that failed for good runs again and ends DONE.
      const once = await iface.createTask({ title: 'Flaky step', type: 'flaky' });
      await waitFor(
        'the flaky task FAILED',
        async () => (await registry.getTask(once.taskId))?.state === 'FAILED',
        { timeoutMs: 15_000 },
      );
      await iface.retryTask(once.taskId);
      await waitFor(
        'the retried task DONE',
        async () => (await registry.getTask(once.taskId))?.state === 'DONE',
        { timeoutMs: 15_000 },
      );
      expect((await registry.getTask(once.taskId))?.result).toEqual({ ran: 2 });
      expect(await iface.routeCommand('status')).toMatch(/DONE/);
    } finally {
      await dev.close();
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
