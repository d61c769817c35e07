/**
 * The circuit breaker in a live agent (real Redis, real BullMQ workers): three failures in a row
 * open it — the agent stops claiming the capability (a further task stays waiting), the registry
 * heartbeat and `/metrics` show it open; after the cool-down exactly one probe runs; a bad probe
 * re-opens it, a good one closes it and claiming resumes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetrics } from '../../src/board/metrics';
import { TaskRegistry } from '../../src/entities/task-registry';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import type { TaskInput } from '../../src/processors/handler-types';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { addTask } from '../helpers/agent-tasks';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// Long enough that the assertions between two probes never race the next one.
const COOLDOWN_MS = 2000;
const prefix = uniquePrefix('breaker');
const dir = mkdtempSync(join(tmpdir(), 'agentq-breaker-'));
const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });

/** Every handler call, in order. The first FAILING calls fail (three, then one bad probe). */
const calls: string[] = [];
const FAILING = 4;
/** Probes run at once (a breaker that let two through would show 2: the probes take a while). */
let probesInFlight = 0;
let maxProbesInFlight = 0;
const agent = new AutonomousAgent({
  agentId: 'breaker-agent',
  capabilities: ['fragile'],
  redisCoordinator: coordinator,
  // Two slots: if the breaker let more than one probe through, both would run at once.
  concurrency: 2,
  breaker: { threshold: 3, cooldownMs: COOLDOWN_MS },
  heartbeatMs: 200,
  internalWorkers: false,
  handlers: {
    fragile: async (task: TaskInput) => {
      calls.push(task.key);
      const call = calls.length;
      if (task.key.startsWith('p')) {
        probesInFlight += 1;
        maxProbesInFlight = Math.max(maxProbesInFlight, probesInFlight);
        await new Promise((resolve) => setTimeout(resolve, 300));
        probesInFlight -= 1;
      }
      if (call <= FAILING) throw new Error(`fragile failure of ${task.key}`);
      return { ok: task.key };
    },
  },
  onError: () => undefined,
});

async function heartbeatState(): Promise<string | undefined> {
  const agents = await coordinator.getAllAgents();
  return agents.find((a) => a.id === 'breaker-agent')?.breakers.fragile;
}

describe('circuit breaker in a live agent', () => {
  beforeAll(async () => {
    await store.open();
    await agent.start();
  });

  afterAll(async () => {
    await agent.close({ graceMs: 1000 });
    await coordinator.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens after N failures, probes once after the cool-down, re-opens on a bad probe and closes on a good one', async () => {
    // Three failures in a row (one attempt each) open the breaker.
    const first = await Promise.all(
      ['f1', 'f2', 'f3'].map((key) => addTask(coordinator, { type: 'fragile', key })),
    );
    for (const job of first) await waitFor(`${job.id} failed`, () => job.isFailed());
    expect(calls).toEqual(expect.arrayContaining(['f1', 'f2', 'f3']));
    expect(agent.breakerStates().fragile).toBe('open');
    await waitFor('the heartbeat to show the breaker open', async () => {
      return (await heartbeatState()) === 'open';
    });
    const metrics = createMetrics({ store, coordinator });
    const scraped = await metrics.registry.getSingleMetricAsString('agentq_breaker_state');
    expect(scraped).toContain(
      'agentq_breaker_state{agent="breaker-agent",capability="fragile",state="open"} 1',
    );

    // While open nothing runs: two more tasks stay unrun. A fetch already blocked in Redis when
    // the worker paused may still pull one; the agent hands it back (delayed to the end of the
    // cool-down) without running it or charging an attempt.
    const p1 = await addTask(coordinator, { type: 'fragile', key: 'p1' });
    const p2 = await addTask(coordinator, { type: 'fragile', key: 'p2' });
    for (const job of [p1, p2]) {
      await waitFor(`${job.id} waiting or given back`, async () =>
        ['waiting', 'prioritized', 'delayed'].includes(await job.getState()),
      );
    }
    expect(calls).toHaveLength(3);

    // After the cool-down exactly one probe runs; it fails, so the breaker opens again.
    await waitFor('the probe to run', () => calls.length >= 4, { timeoutMs: 10000 });
    await waitFor('the breaker to re-open', () => agent.breakerStates().fragile === 'open');
    const probe = calls[3]!;
    expect(['p1', 'p2']).toContain(probe);
    const other = probe === 'p1' ? p2 : p1;
    await waitFor(
      'the probe to fail',
      async () => (await (probe === 'p1' ? p1 : p2).getState()) === 'failed',
    );
    expect(calls).toHaveLength(4);
    expect(['waiting', 'prioritized', 'delayed']).toContain(await other.getState());

    // The handler heals: the next probe (the other task) succeeds, closes the breaker, and
    // claiming resumes for new tasks.
    await waitFor('the second probe to complete', () => other.isCompleted(), { timeoutMs: 10000 });
    expect(calls).toHaveLength(5);
    expect(calls[4]).toBe(other.data.key);
    await waitFor('the breaker closed', () => agent.breakerStates().fragile === 'closed');
    await waitFor('the heartbeat to show it closed', async () => {
      return (await heartbeatState()) === 'closed';
    });
    const after = await Promise.all(
      ['a1', 'a2', 'a3'].map((key) => addTask(coordinator, { type: 'fragile', key })),
    );
    for (const job of after) await waitFor(`${job.id} completed`, () => job.isCompleted());
    expect(calls).toHaveLength(8);
    expect(maxProbesInFlight).toBe(1);
  });
});
