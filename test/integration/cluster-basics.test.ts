/**
 * agentq on a real 3-master Redis Cluster: every key of one shard in one slot (so BullMQ's
 * multi-key scripts work), and the shards' hash tags in different slots.
 */
import { Worker } from 'bullmq';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { PrivateRedisCluster } from '../helpers/redis-cluster';
import { uniquePrefix } from '../helpers/servers';

jest.setTimeout(60_000);

describe('Redis Cluster', () => {
  let cluster: PrivateRedisCluster;
  let coordinator: RedisCoordinator;
  const workers: Worker[] = [];

  beforeAll(async () => {
    cluster = await PrivateRedisCluster.start();
    // Shard tags are `{p}`, `{p.s1}`, `{p.s2}`: for a rare prefix two of them hash to one slot
    // (still correct, just not spread). Draw prefixes until the three slots differ, so the test
    // checks the spreading itself rather than the luck of a random prefix.
    for (;;) {
      coordinator = new RedisCoordinator({ url: cluster.url, prefix: uniquePrefix(), shards: 3 });
      const slots = new Set<number>();
      for (let shard = 0; shard < 3; shard += 1) {
        const key = `${coordinator.bullPrefix(shard)}:x`;
        slots.add(Number(await coordinator.client.call('CLUSTER', 'KEYSLOT', key)));
      }
      if (slots.size === 3) break;
      await coordinator.close();
    }
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await coordinator?.close();
    await cluster?.stop();
  });

  it('runs a flow on every shard, each shard in one slot of its own', async () => {
    for (let shard = 0; shard < 3; shard += 1) {
      const prefix = coordinator.bullPrefix(shard);
      const done: string[] = [];
      const worker = new Worker(
        'dev',
        async (job) => {
          done.push(job.id ?? '');
          return { shard };
        },
        { connection: coordinator.duplicate('worker'), prefix },
      );
      workers.push(worker);
      const root = await coordinator.flowProducer(shard).add({
        name: 'root',
        queueName: 'dev',
        data: {},
        opts: { jobId: `root-${shard}` },
        children: [
          { name: 'a', queueName: 'dev', data: {}, opts: { jobId: `a-${shard}` } },
          { name: 'b', queueName: 'dev', data: {}, opts: { jobId: `b-${shard}` } },
        ],
      });
      const deadline = Date.now() + 20_000;
      while (!(await root.job.isCompleted())) {
        if (Date.now() > deadline) throw new Error(`shard ${shard}: the flow did not complete`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(done.sort()).toEqual([`a-${shard}`, `b-${shard}`, `root-${shard}`]);
    }
  });

  it('keeps the agent registry and pub/sub working on the cluster', async () => {
    const now = new Date();
    await coordinator.heartbeatAgent({
      id: 'agent-c',
      capabilities: ['dev'],
      host: 'h',
      pid: 1,
      startedAt: now,
      lastSeenAt: now,
      running: [],
      concurrency: 1,
      breakers: {},
      heartbeatMs: 1000,
    });
    expect((await coordinator.getAllAgents()).map((agent) => agent.id)).toEqual(['agent-c']);
    const subscriber = coordinator.duplicate('worker');
    try {
      const got = new Promise<string>((resolve) => subscriber.on('message', (_c, m) => resolve(m)));
      await subscriber.subscribe(coordinator.channel('tasks:new'));
      await coordinator.publish(coordinator.channel('tasks:new'), { hello: 1 });
      expect(JSON.parse(await got)).toEqual({ hello: 1 });
    } finally {
      subscriber.disconnect();
    }
  });
});
