/**
 * A mirror that loses its lock steps down and leads again, however early in its leadership.
 * The consumer's stream reader is a connection of its own; stopped while that connection was
 * still connecting (an ioredis Cluster then never settles a command sent on it), a consumer used
 * to wait on its read for good, so the candidate never stepped down nor led again — the stall
 * the cluster project's mirror-crash test hit under load. Runs on Redis Cluster too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { LeaderLock } from '../../src/mirror/mirror-lock';
import { MirrorConsumer, type MirrorStats } from '../../src/mirror/mirror-consumer';
import { RecentSamples } from '../../src/mirror/mirror-metrics';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { deleteKeysMatching } from '../helpers/redis-cluster';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

describe('a mirror consumer stopped at once', () => {
  const prefix = uniquePrefix('stop');
  const dir = mkdtempSync(join(tmpdir(), 'agentq-mirror-stop-'));
  const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });

  beforeAll(async () => {
    await store.open();
    await coordinator.registerCapabilities(['work']);
  });

  afterAll(async () => {
    await deleteKeysMatching(coordinator.client, `{${prefix}}*`);
    await coordinator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends its run even when its reader had not connected yet', async () => {
    const stats: MirrorStats = {
      batches: 0,
      entries: 0,
      recorded: 0,
      rejected: 0,
      stale: 0,
      reconciles: 0,
      leaderships: 0,
    };
    const lock = new LeaderLock(coordinator.client, coordinator.key('mirror', 'lock'));
    expect(await lock.tryAcquire()).toBe(true);
    // Stopped at moments spread over the reader's connecting (a cluster takes tens of ms).
    for (const delayMs of [0, 1, 2, 4, 6, 8, 10, 15, 20, 30, 40, 60, 80]) {
      const consumer = new MirrorConsumer({
        shard: 0,
        store,
        coordinator,
        lock,
        bridge: null,
        batchSize: 500,
        chunkSize: 2000,
        blockMs: 100,
        stats,
        lags: new RecentSamples(10),
        log: () => undefined,
      });
      const run = consumer.run();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await consumer.stop();
      // Ends, one way or the other (a rejection names the closed connection): never hangs.
      const ended = await Promise.race([
        run.then(
          () => 'ended',
          () => 'ended',
        ),
        new Promise((resolve) => setTimeout(() => resolve('still running after 10 s'), 10000)),
      ]);
      expect([delayMs, ended]).toEqual([delayMs, 'ended']);
    }
    await lock.release();
  });
});
