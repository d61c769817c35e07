/**
 * Retention: a finished goal's jobs leave Redis after `retentionMs` (here 0: at once), whether it
 * ended DONE or FAILED; SQL keeps every task and event, and the goal's state is not disturbed by
 * the cleanup job's own completion.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { createAgentSystem, type AgentSystem } from '../../src';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

describe('retention of finished goals in Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-retention-'));
  const prefix = uniquePrefix('ret');
  let system: AgentSystem;

  beforeAll(async () => {
    system = await createAgentSystem({
      config: {
        REDIS_URL,
        AGENTQ_DB: `sqlite:${join(dir, 'a.db')}`,
        AGENTQ_PREFIX: prefix,
        AGENTQ_RETENTION_MS: '0',
      },
    });
    await system.startAgent({
      agentId: 'ret-1',
      capabilities: ['work', 'boom'],
      concurrency: 4,
      handlers: {
        work: async (task, ctx) => {
          await ctx.usage({ tokens: 5 });
          return { did: task.key };
        },
        boom: async () => {
          throw new UnrecoverableError('boom');
        },
      },
    });
  });

  afterAll(async () => {
    await system.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function keysOfGoal(goalId: string): Promise<string[]> {
    const keys = await system.redis.client.keys(`{${prefix}}:*${goalId}*`);
    return keys.filter((key) => !key.includes(':_dlq:'));
  }

  it('removes a DONE goal diamond with its link and budget record, keeps its history in SQL', async () => {
    const { goalId } = await system.supervisor.submitPlan({
      goal: 'diamond',
      budget: { tokens: 1000 },
      tasks: [
        { key: 'a', title: 'A', type: 'work' },
        { key: 'b', title: 'B', type: 'work', dependsOn: ['a'] },
        { key: 'c', title: 'C', type: 'work', dependsOn: ['a'] },
        { key: 'd', title: 'D', type: 'work', dependsOn: ['b', 'c'] },
      ],
    });
    await waitFor('the goal DONE in SQL', async () => {
      return (await system.registry.getGoal(goalId))?.state === 'DONE';
    });
    await waitFor('every job of the goal gone from Redis', async () => {
      return (await keysOfGoal(goalId)).length === 0;
    });
    const tasks = await system.registry.findTasks({ goalId });
    expect(tasks.map((t) => t.state)).toEqual(['DONE', 'DONE', 'DONE', 'DONE']);
    expect((await system.registry.getGoal(goalId))?.state).toBe('DONE');
    // The budget record went with the jobs; SQL keeps its last copy.
    expect(await system.redis.client.exists(`{${prefix}}:agentq:budget:${goalId}`)).toBe(0);
    expect((await system.registry.getGoal(goalId))?.usage?.tokens).toBe(20);
  });

  it('removes a FAILED goal too, and the goal stays FAILED', async () => {
    const { goalId } = await system.supervisor.submitPlan({
      goal: 'fails',
      tasks: [
        { key: 'x', title: 'X', type: 'boom', attempts: 1 },
        { key: 'y', title: 'Y', type: 'work', dependsOn: ['x'] },
        // Linked to x: failed through a gate job, which goes with the rest.
        { key: 'z', title: 'Z', type: 'work', dependsOn: ['x'] },
      ],
    });
    await waitFor('the goal FAILED in SQL', async () => {
      return (await system.registry.getGoal(goalId))?.state === 'FAILED';
    });
    await waitFor('every job of the goal gone from Redis', async () => {
      return (await keysOfGoal(goalId)).length === 0;
    });
    expect((await system.registry.getGoal(goalId))?.state).toBe('FAILED');
    const y = await system.registry.getTask(`${goalId}.y`);
    expect(y?.state).toBe('FAILED');
    const z = await system.registry.getTask(`${goalId}.z`);
    expect(z).toMatchObject({ state: 'FAILED', error: { message: 'dependency x failed' } });
  });
});
