/**
 * Retrying a task of a FAILED goal re-opens the goal: here the task the goal's failure CANCELLED
 * (it had no dead letter: the retry used to fail with `job …@0 not found`). Every task that is not
 * DONE runs again in a new epoch, DONE ones are not run again, and the goal ends DONE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AutonomousAgent,
  InterfaceAgent,
  RedisCoordinator,
  SupervisorAgent,
  TaskRegistry,
  UnrecoverableError,
} from '../../src';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

describe('retrying a task of a FAILED goal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-reopen-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('re-opens the goal, runs what was not DONE again, and the goal ends DONE', async () => {
    const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
    const redis = new RedisCoordinator({ url: REDIS_URL, prefix: uniquePrefix('reopen') });
    const supervisor = new SupervisorAgent(registry, redis);
    const iface = new InterfaceAgent(registry, redis, { supervisor, actor: 'test:reopen' });
    let fragileRuns = 0;
    const first = new AutonomousAgent({
      agentId: 'first',
      capabilities: ['setup', 'fragile', 'work'],
      taskRegistry: registry,
      redisCoordinator: redis,
      handlers: {
        setup: async () => 'ready',
        fragile: async () => {
          if (++fragileRuns === 1) throw new UnrecoverableError('flaky dependency');
          return 'fixed';
        },
        work: async (_task, ctx) => ({ saw: ctx.dependencies }),
      },
    });
    // Nobody serves `later` until after the failure: the goal's failure cancels it unstarted.
    const second = new AutonomousAgent({
      agentId: 'second',
      capabilities: ['later'],
      redisCoordinator: redis,
      handlers: { later: async () => 'late' },
    });
    try {
      await first.start();
      const { goalId, tasks } = await supervisor.submitPlan({
        goal: 'Fail, then recover',
        tasks: [
          { key: 'setup', title: 'Set up', type: 'setup' },
          { key: 'fragile', title: 'Fragile step', type: 'fragile', dependsOn: ['setup'] },
          { key: 'build', title: 'Build', type: 'work', dependsOn: ['fragile', 'setup'] },
          { key: 'later', title: 'Later', type: 'later' },
        ],
      });
      const idOf = (key: string) => tasks.find((t) => t.key === key)!.id;
      await waitFor(
        'the goal FAILED',
        async () => (await registry.getGoal(goalId))?.state === 'FAILED',
        { timeoutMs: 20_000 },
      );
      await waitFor(
        'later CANCELLED',
        async () => (await registry.getTask(idOf('later')))?.state === 'CANCELLED',
        { timeoutMs: 20_000 },
      );
      expect((await registry.getTask(idOf('build')))?.state).toBe('FAILED');
      await second.start();

      const outcome = await iface.retryTask(idOf('later'));
      expect(outcome).toEqual({
        reopened: { goalId, requeued: expect.arrayContaining(['fragile', 'build', 'later']) },
      });
      expect((await registry.getGoal(goalId))?.state).not.toBe('FAILED');

      await waitFor(
        'the re-opened goal DONE',
        async () => (await registry.getGoal(goalId))?.state === 'DONE',
        { timeoutMs: 30_000 },
      );
      const build = await registry.getTask(idOf('build'));
      expect(build).toMatchObject({ state: 'DONE', epoch: 1 });
      expect(build?.result).toEqual({ saw: { fragile: 'fixed', setup: 'ready' } });
      // setup was DONE: it did not run again.
      expect((await registry.getTask(idOf('setup')))?.epoch).toBe(0);
      expect(fragileRuns).toBe(2);
      const events = await registry.eventsAfter(0, 10_000);
      expect(events.some((e) => e.taskId === idOf('later') && e.actor === 'test:reopen')).toBe(
        true,
      );
    } finally {
      await second.close();
      await first.close();
      await iface.close();
      await redis.close();
      await registry.close();
    }
  });
});
