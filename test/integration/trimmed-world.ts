/**
 * The world of the mirror's catch-up tests: a SQLite store, a coordinator and capability queues
 * whose events streams keep about 10 entries, so running jobs while no mirror reads trims them
 * past any cursor and the mirror must reconcile from the jobs' states.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { TaskRegistry } from '../../src/entities/task-registry';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';
import { createFlatGoalRows, newGoalId, taskJob, taskWorker } from './mirror-protocol';

export interface TrimmedWorld {
  prefix: string;
  store: TaskRegistry;
  coordinator: RedisCoordinator;
  queue(name: string): Queue;
  /** In beforeAll: opens the store, registers the queues. */
  open(): Promise<void>;
  /** In afterAll: removes every key of the world, closes everything, deletes the store. */
  close(): Promise<void>;
}

export function trimmedWorld(name: string, queueNames: readonly string[]): TrimmedWorld {
  const prefix = uniquePrefix();
  const dir = mkdtempSync(join(tmpdir(), `agentq-${name}-`));
  const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const queues = new Map(
    queueNames.map((queueName) => [
      queueName,
      new Queue(queueName, {
        connection: coordinator.duplicate(),
        prefix: coordinator.bullPrefix(0),
        streams: { events: { maxLen: 10 } },
      }),
    ]),
  );
  return {
    prefix,
    store,
    coordinator,
    queue: (queueName) => queues.get(queueName)!,
    async open() {
      await store.open();
      await coordinator.registerCapabilities([...queueNames]);
      await Promise.all([...queues.values()].map((q) => q.waitUntilReady()));
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
      const keys = await coordinator.client.keys(`{${prefix}}*`);
      if (keys.length > 0) await coordinator.client.del(...keys);
      await coordinator.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A goal of `count` independent tasks `t0…` of `queueName`, in SQL and in Redis, run to the end
 * with no mirror reading (`t7` fails for good), its stream then trimmed. Returns the goal's id.
 */
export async function runFlatGoalUnmirrored(
  world: TrimmedWorld,
  queueName: string,
  count: number,
): Promise<string> {
  const { store, coordinator } = world;
  const queue = world.queue(queueName);
  const goalId = newGoalId();
  const keys = await createFlatGoalRows(store, goalId, queueName, count);
  await queue.addBulk(keys.map((key) => taskJob(goalId, key, queueName)));
  const worker = taskWorker(coordinator, queueName, (data) => {
    if (data.key === 't7') throw new Error('t7 is broken');
    return data.key;
  });
  try {
    await waitFor('every job to finish in Redis', async () => {
      const counts = await queue.getJobCounts('completed', 'failed');
      return counts.completed === count - 1 && counts.failed === 1;
    });
  } finally {
    await worker.close();
  }
  const info = (await coordinator.client.call(
    'XINFO',
    'STREAM',
    `${coordinator.bullPrefix(0)}:${queueName}:events`,
  )) as unknown[];
  expect(Number(info[info.indexOf('length') + 1])).toBeLessThan(count * 3);
  return goalId;
}

/** The audit log's seq is gap-free and no task reaches a state twice in one attempt. */
export async function expectEachTransitionOnce(store: TaskRegistry): Promise<void> {
  const events = await store.eventsAfter(0, 100000);
  expect(events.every((e, i) => e.seq === i + 1)).toBe(true);
  const seen = new Set<string>();
  for (const e of events) {
    const id = `${e.taskId}/${e.attempt}/${e.toState}`;
    expect(seen.has(id)).toBe(false);
    seen.add(id);
  }
}
