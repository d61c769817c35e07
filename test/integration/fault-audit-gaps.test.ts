/**
 * The audit log and the channels stay whole through two faults (private Redis servers):
 * - a goal Redis refuses (maxmemory under noeviction) takes no seq and publishes nothing: the
 *   audit log stays gap-free and no `tasks:new` names the refused goal;
 * - Redis losing its keys (FLUSHALL) while serve is down, then `agentq recover`: every seq
 *   recorded meanwhile is still published once serve is back, none twice.
 */
import { Redis } from 'ioredis';
import type { PlanSpec } from '../../src/entities/task-model';
import { TASK_EVENT_NAMES } from '../../src/entities/task-model';
import { goalIdFor } from '../../src/queues/goal-ids';
import { FaultWorld } from '../helpers/fault-world';
import { waitFor } from '../helpers/wait-for';

interface Published {
  seq: number;
  event: string;
  goalId: string;
}

/** Collects every task message the world's bridge publishes. */
async function subscribe(
  world: FaultWorld,
): Promise<{ seen: Published[]; close(): Promise<void> }> {
  const subscriber = new Redis(world.redis.url);
  const seen: Published[] = [];
  subscriber.on('message', (_channel: string, message: string) => {
    const { seq, event, goalId } = JSON.parse(message) as Published;
    seen.push({ seq, event, goalId });
  });
  await subscriber.subscribe(
    ...TASK_EVENT_NAMES.map((name) => world.coordinator.channel(`tasks:${name}`)),
  );
  return { seen, close: async () => void (await subscriber.quit()) };
}

/** Every seq of the audit log, in order. */
async function loggedSeqs(world: FaultWorld): Promise<number[]> {
  const seqs: number[] = [];
  for (let after = 0; ;) {
    const page = await world.registry.eventsAfter(after, 1000);
    seqs.push(...page.map((e) => e.seq));
    if (page.length < 1000) return seqs;
    after = page.at(-1)!.seq;
  }
}

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Waits until the bridge has published everything the audit log holds. */
async function publishedAll(world: FaultWorld, seen: Published[]): Promise<number> {
  return waitFor(
    'the bridge to publish the whole audit log',
    async () => {
      const last = await world.registry.lastSeq();
      return last > 0 && seen.some((m) => m.seq === last) ? last : null;
    },
    { timeoutMs: 30000, intervalMs: 50 },
  );
}

describe('a goal Redis refuses', () => {
  const BLOB = 'x'.repeat(20_000);
  const plan = (i: number): PlanSpec => ({
    goal: `goal ${i}`,
    key: `refused-${i}`,
    tasks: Array.from({ length: 20 }, (_, t) => ({
      key: `t${t}`,
      title: `t${t}`,
      type: 'work',
      data: { blob: BLOB },
    })),
  });
  let world: FaultWorld;

  beforeAll(async () => {
    world = await FaultWorld.start({
      redisArgs: ['--maxmemory', '8mb', '--maxmemory-policy', 'noeviction'],
      bridge: true,
    });
  });

  afterAll(async () => {
    await world.close();
  });

  it('takes no seq of the audit log and publishes nothing', async () => {
    const channels = await subscribe(world);
    try {
      let refused: number | null = null;
      for (let i = 0; i < 400 && refused === null; i++) {
        // Let the bridge publish each acknowledged goal before memory is full.
        if (i > 0) await publishedAll(world, channels.seen);
        try {
          await world.supervisor.submitPlan(plan(i));
        } catch (error) {
          expect((error as Error).message).toMatch(/maxmemory/);
          refused = i;
        }
      }
      expect(refused).not.toBeNull();
      const refusedId = goalIdFor(`refused-${refused}`);
      expect(await world.registry.getGoal(refusedId)).toBeNull();

      // Memory back: one more goal, so the bridge has something after the refusal to publish.
      const admin = new Redis(world.redis.url);
      await admin.config('SET', 'maxmemory', '0');
      await admin.quit();
      await world.supervisor.submitPlan(plan(refused! + 1));
      const last = await publishedAll(world, channels.seen);

      expect(await loggedSeqs(world)).toEqual(oneTo(last));
      expect(channels.seen.filter((m) => m.goalId === refusedId)).toEqual([]);
      expect(channels.seen.map((m) => m.seq).sort((a, b) => a - b)).toEqual(oneTo(last));
    } finally {
      await channels.close();
    }
  });
});

describe('Redis losing its keys while serve is down', () => {
  const plan: PlanSpec = {
    goal: 'publish across a wipe',
    tasks: [
      { key: 'a', title: 'a', type: 'build', data: { ms: 20 } },
      { key: 'b', title: 'b', type: 'build', dependsOn: ['a'], data: { ms: 20 } },
      { key: 'slow', title: 'slow', type: 'build', data: { ms: 60_000 } },
      { key: 'c', title: 'c', type: 'build', dependsOn: ['b', 'slow'], data: { ms: 20 } },
    ],
  };
  let world: FaultWorld;

  beforeAll(async () => {
    world = await FaultWorld.start({ bridge: true });
    await world.startAgent('agent-1', ['build']);
  });

  afterAll(async () => {
    await world.close();
  });

  it('publishes every seq recorded meanwhile, once', async () => {
    const channels = await subscribe(world);
    try {
      const { goalId } = await world.supervisor.submitPlan(plan);
      await waitFor(
        'a and b DONE, slow ACTIVE',
        async () => {
          const tasks = await world.registry.findTasks({ goalId });
          const state = (key: string) => tasks.find((t) => t.key === key)?.state;
          return state('a') === 'DONE' && state('b') === 'DONE' && state('slow') === 'ACTIVE';
        },
        { timeoutMs: 30000, intervalMs: 50 },
      );
      await publishedAll(world, channels.seen);

      await world.stopServices();
      const wipe = new Redis(world.redis.url);
      await wipe.flushall();
      await wipe.quit();
      const recovered = await world.cli(['recover', '--json']);
      expect(recovered.code).toBe(0);
      // recover recorded slow's return to PENDING while no bridge ran.
      const events = await world.events(goalId);
      expect(events.at(-1)).toMatchObject({ toState: 'PENDING', actor: 'recover' });

      world.startServices();
      const last = await publishedAll(world, channels.seen);
      expect(channels.seen.map((m) => m.seq).sort((a, b) => a - b)).toEqual(oneTo(last));
    } finally {
      await channels.close();
    }
  });
});
