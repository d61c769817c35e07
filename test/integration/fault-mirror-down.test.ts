/**
 * The mirror down (not running) while 3,000 tasks run to the end and well over 10,000 entries
 * pass through the BullMQ events stream (past its trimming length, so the mirror must reconcile
 * from the jobs). "No transition lost" once it is back means: every task's SQL state equals its
 * job's state in Redis, every goal is DONE, the audit log's seq is gap-free, and every task has
 * its full history — a creation event, then a chain of transitions each starting where the last
 * ended, into DONE exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentSystem, type AgentSystem } from '../../src/agent-system';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import type { TaskEventRecord } from '../../src/entities/task-model';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const GOALS = 3;
const PER_GOAL = 1000;
const TOTAL = GOALS * PER_GOAL;

describe('the mirror down while more than 10,000 events pass', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-mirror-down-'));
  let system: AgentSystem;
  let mirror: MirrorHandle | null = null;
  const goalIds: string[] = [];

  beforeAll(async () => {
    system = await createAgentSystem({
      mirror: false,
      config: {
        REDIS_URL,
        AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`,
        AGENTQ_PREFIX: uniquePrefix('mdown'),
      },
    });
    await system.startAgent({
      agentId: 'busy',
      capabilities: ['burst'],
      concurrency: 50,
      breaker: false,
      handlers: { burst: async (task) => ({ n: task.data.n ?? null }) },
    });
  });

  afterAll(async () => {
    await mirror?.close();
    await system?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function entriesAdded(): Promise<number> {
    const key = system.redis.queue('burst').keys.events!;
    const info = (await system.redis.client.call('XINFO', 'STREAM', key)) as unknown[];
    return Number(info[info.indexOf('entries-added') + 1]);
  }

  it('runs every task to the end in Redis while SQL, unmirrored, stays where it was', async () => {
    for (let g = 0; g < GOALS; g++) {
      const { goalId } = await system.supervisor.submitPlan({
        goal: `burst ${g}`,
        tasks: Array.from({ length: PER_GOAL }, (_, i) => ({
          key: `t${i}`,
          title: `burst ${g}/${i}`,
          type: 'burst',
          data: { n: i },
        })),
      });
      goalIds.push(goalId);
    }
    await waitFor(
      'every job completed in Redis',
      async () => (await system.redis.queue('burst').getJobCounts('completed')).completed === TOTAL,
      { timeoutMs: 50_000, intervalMs: 200 },
    );
    const added = await entriesAdded();
    process.stdout.write(`mirror-down: ${added} stream entries passed while the mirror was down\n`);
    expect(added).toBeGreaterThan(10_000);
    const counts = await system.registry.countByState();
    expect(counts.DONE).toBe(0);
  });

  it('records every transition once the mirror is back', async () => {
    mirror = startMirror({ store: system.registry, coordinator: system.redis });
    await waitFor(
      'every task DONE in SQL',
      async () => (await system.registry.countByState()).DONE === TOTAL,
      { timeoutMs: 50_000, intervalMs: 200 },
    );
    await waitFor('every goal DONE in SQL', async () => {
      const goals = await Promise.all(goalIds.map((id) => system.registry.getGoal(id)));
      return goals.every((g) => g?.state === 'DONE');
    });

    const events: TaskEventRecord[] = [];
    for (let after = 0; ;) {
      const page = await system.registry.eventsAfter(after, 10_000);
      if (page.length === 0) break;
      events.push(...page);
      after = page.at(-1)!.seq;
    }
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));

    const byTask = new Map<string, TaskEventRecord[]>();
    for (const e of events) byTask.set(e.taskId, [...(byTask.get(e.taskId) ?? []), e]);
    const broken: string[] = [];
    for (const goalId of goalIds) {
      const tasks = await system.registry.findTasks({ goalId, limit: PER_GOAL });
      expect(tasks).toHaveLength(PER_GOAL);
      for (const task of tasks) {
        const history = byTask.get(task.id) ?? [];
        const chained = history.every((e, i) =>
          i === 0 ? e.fromState === null : e.fromState === history[i - 1]!.toState,
        );
        const intoDone = history.filter((e) => e.toState === 'DONE').length;
        const job = await system.redis.queue('burst').getJob(task.id);
        const jobState = job ? await job.getState() : 'missing';
        if (!chained || intoDone !== 1 || history.at(-1)?.toState !== 'DONE') {
          broken.push(`${task.id}: ${history.map((e) => `${e.fromState}→${e.toState}`).join(' ')}`);
        }
        if (task.state !== 'DONE' || jobState !== 'completed') {
          broken.push(`${task.id}: SQL ${task.state}, Redis ${jobState}`);
        }
      }
    }
    expect(broken.slice(0, 10)).toEqual([]);
  });
});
