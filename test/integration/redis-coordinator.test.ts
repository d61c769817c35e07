import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

describe('RedisCoordinator', () => {
  const prefix = uniquePrefix();
  const redis = new RedisCoordinator({ url: REDIS_URL, prefix });

  afterAll(async () => {
    const keys = await redis.client.keys(`{${prefix}}*`);
    if (keys.length > 0) await redis.client.del(...keys);
    await redis.close();
  });

  it('lists live agents and forgets one that missed three heartbeats', async () => {
    const now = Date.now();
    const base = {
      capabilities: ['dev'],
      host: 'h',
      pid: 1,
      running: [],
      concurrency: 1,
      breakers: {},
    };
    await redis.heartbeatAgent({
      ...base,
      id: 'live',
      startedAt: new Date(now),
      lastSeenAt: new Date(now),
      heartbeatMs: 1000,
    });
    await redis.heartbeatAgent({
      ...base,
      id: 'dead',
      startedAt: new Date(now),
      lastSeenAt: new Date(now - 3500),
      heartbeatMs: 1000,
    });
    const agents = await redis.getAllAgents(now);
    expect(agents.map((a) => a.id)).toEqual(['live']);
    expect(await redis.client.hexists(redis.key('agents'), 'dead')).toBe(0);
  });

  it('keeps every key of the deployment under one hash tag', () => {
    expect(redis.key('agents')).toBe(`{${prefix}}:agentq:agents`);
    expect(redis.queue('dev').opts.prefix).toBe(`{${prefix}}`);
  });

  it('lists pending tasks of known capabilities, highest priority first', async () => {
    await redis.registerCapabilities(['dev']);
    const mk = (taskId: string, priority: number) => ({
      v: 1,
      kind: 'task',
      taskId,
      goalId: 'g',
      key: taskId,
      title: taskId,
      description: '',
      type: 'dev',
      priority,
      data: {},
      dependsOn: [],
      timeoutMs: 1000,
      optional: false,
      epoch: 0,
      shard: 0,
    });
    await redis.queue('dev').add('task', mk('low', 2), { jobId: 'low', priority: 9 });
    await redis.queue('dev').add('task', mk('high', 9), { jobId: 'high', priority: 2 });
    const pending = await redis.getPendingTasks();
    expect(pending.map((p) => p.taskId)).toEqual(['high', 'low']);
  });
});
