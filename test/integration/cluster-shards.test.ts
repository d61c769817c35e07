/**
 * AGENTQ_SHARDS=3 on a real 3-master Redis Cluster: goals spread over the shards' hash tags, one
 * agent serves its capability on every shard, and status, the mirror, its pub/sub bridge and the
 * board see the shards as one system (issue 8).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createAgentSystem, type AgentSystem } from '../../src/agent-system';
import { createApp, type AgentqApp } from '../../src/board/app';
import type { TaskChannelPayload } from '../../src/mirror/channel-payload';
import type { PlanSpec } from '../../src/entities/task-model';
import type { RedisConnection } from '../../src/queues/connection';
import { GOALS_QUEUE } from '../../src/queues/names';
import { shardOf } from '../../src/queues/protocol';
import { deleteKeysMatching, PrivateRedisCluster } from '../helpers/redis-cluster';
import { uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const SHARDS = 3;
const GOALS = 12;
const CAPABILITY = 'shardwork';

/** a → (b, c) → d: a fan-out and a fan-in inside each goal's flow. */
function diamond(n: number): PlanSpec {
  const task = (key: string, dependsOn: string[]) => ({
    key,
    title: `${key} of goal ${n}`,
    type: CAPABILITY,
    dependsOn,
  });
  return {
    goal: `sharded goal ${n}`,
    tasks: [task('a', []), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c'])],
  };
}

describe('AGENTQ_SHARDS=3 on a Redis Cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-shards-'));
  const prefix = uniquePrefix('shards');
  let cluster: PrivateRedisCluster;
  let system: AgentSystem;
  let api: AgentqApp;
  let subscriber: RedisConnection;
  const published: TaskChannelPayload[] = [];
  const goalIds: string[] = [];

  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start();
    system = await createAgentSystem({
      config: {
        REDIS_URL: cluster.url,
        AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`,
        AGENTQ_PREFIX: prefix,
        AGENTQ_SHARDS: String(SHARDS),
      },
    });
    subscriber = system.redis.duplicate('worker');
    subscriber.on('pmessage', (_pattern, _channel, raw: string) =>
      published.push(JSON.parse(raw) as TaskChannelPayload),
    );
    await subscriber.psubscribe(system.redis.channel('tasks:*'));
    api = createApp({
      store: system.registry,
      coordinator: system.redis,
      config: { token: null, readonlyToken: null },
      log: () => undefined,
    });
    await api.ready;
  });

  afterAll(async () => {
    await api?.close();
    await subscriber?.quit();
    if (system) await deleteKeysMatching(system.redis.client, `{${prefix}*`);
    await system?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spreads goals over the shards and counts their waiting tasks as one system', async () => {
    await system.redis.registerCapabilities([CAPABILITY]);
    for (let n = 0; n < GOALS; n += 1) {
      goalIds.push((await system.supervisor.submitPlan(diamond(n))).goalId);
    }
    const used = new Set(goalIds.map((id) => shardOf(id, SHARDS)));
    expect(used.size).toBeGreaterThanOrEqual(2);

    // No agent yet: every goal's first task waits, on whichever shard its goal landed.
    const pending = await system.redis.getPendingTasks(1000);
    expect(pending.map((task) => task.goalId).sort()).toEqual([...goalIds].sort());
    expect(pending.every((task) => task.key === 'a')).toBe(true);
    const status = await system.iface.getSystemStatus();
    expect(status.pending).toHaveLength(Math.min(GOALS, 20));
    // One row per capability, summed over the shards.
    expect(status.queues.find((queue) => queue.name === CAPABILITY)?.waiting).toBe(GOALS);
  });

  it('runs every goal on one agent serving all shards, mirrored gap-free and published', async () => {
    await system.startAgent({
      agentId: 'shard-agent',
      capabilities: [CAPABILITY],
      concurrency: 8,
      handlers: { [CAPABILITY]: async (task) => ({ key: task.key }) },
    });
    await waitFor(
      'every goal and task DONE in SQL',
      async () => {
        const goals = await Promise.all(goalIds.map((id) => system.registry.getGoal(id)));
        const counts = await system.registry.countByState();
        return goals.every((goal) => goal?.state === 'DONE') && counts.DONE === GOALS * 4;
      },
      { timeoutMs: 50_000, intervalMs: 200 },
    );
    for (const goalId of goalIds) {
      const tasks = await system.registry.findTasks({ goalId });
      expect(tasks.map((task) => [task.key, task.state, task.agentId])).toEqual([
        ['a', 'DONE', 'shard-agent'],
        ['b', 'DONE', 'shard-agent'],
        ['c', 'DONE', 'shard-agent'],
        ['d', 'DONE', 'shard-agent'],
      ]);
    }
    // The audit log of all shards is one sequence: gap-free, each task's transitions once.
    const events = await system.registry.eventsAfter(0, 100_000);
    expect(events.every((event, i) => event.seq === i + 1)).toBe(true);
    const toDone = events.filter((event) => event.toState === 'DONE');
    expect(toDone).toHaveLength(GOALS * 4);
    // The bridge published every task's DONE, from every shard, in seq order.
    await waitFor('every DONE published', () =>
      published.filter((p) => p.state === 'DONE').length >= GOALS * 4 ? true : null,
    );
    const doneGoals = new Set(published.filter((p) => p.state === 'DONE').map((p) => p.goalId));
    expect([...doneGoals].sort()).toEqual([...goalIds].sort());
    const seqs = published.map((p) => p.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect((await system.iface.getSystemStatus()).pending).toEqual([]);
  });

  it('lists every shard’s queues on the board', async () => {
    const response = await request(api.app).get('/board/api/queues').expect(200);
    const names = (response.body as { queues: Array<{ name: string }> }).queues.map((q) => q.name);
    for (const name of [CAPABILITY, GOALS_QUEUE]) {
      expect(names).toContain(name);
      for (let shard = 1; shard < SHARDS; shard += 1) expect(names).toContain(`s${shard}:${name}`);
    }
    // Each shard's goal roots: the board reads them off the shard's own queue.
    const counts = await Promise.all(
      Array.from({ length: SHARDS }, (_, shard) =>
        system.redis.queue(GOALS_QUEUE, shard).getCompletedCount(),
      ),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(GOALS);
  });
});
