/**
 * Cancel racing completion: every task of a goal is cancelled at about the moment its handler
 * returns (a random delay on each side, a few milliseconds apart). "Exactly one terminal state
 * wins" means: in SQL each task ends DONE or CANCELLED, its audit log holds exactly one
 * transition into a terminal state and none out of one, and SQL agrees with the job in Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAgentSystem, type AgentSystem } from '../../src/agent-system';
import type { TaskEventRecord } from '../../src/entities/task-model';
import { ConflictError } from '../../src/errors';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const TASKS = 150;
const TERMINAL = new Set(['DONE', 'FAILED', 'CANCELLED']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Cancel latency (lookup, control message, abort) is a few ms: spread both sides over it. */
const jitter = (ms: number) => Math.floor(Math.random() * ms);

describe('cancel racing completion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-race-'));
  let system: AgentSystem;
  const cancels: Array<Promise<string>> = [];

  beforeAll(async () => {
    system = await createAgentSystem({
      config: {
        REDIS_URL,
        AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`,
        AGENTQ_PREFIX: uniquePrefix('race'),
      },
    });
    await system.startAgent({
      agentId: 'racer',
      capabilities: ['race'],
      concurrency: 20,
      breaker: false,
      handlers: {
        race: async (task, ctx) => {
          // A few tasks are not part of the race, so both outcomes occur however loaded the
          // machine is: 'calm' ones are never cancelled, 'waits' ones wait for their cancel.
          if (task.data.mode === 'calm') return { key: task.key };
          // The cancel leaves from here so it meets the handler's return, whichever comes first.
          cancels.push(
            sleep(jitter(10)).then(() =>
              system.supervisor.cancelTask(task.id, 'racer-test').then(
                () => 'sent',
                (error: unknown) => {
                  if (error instanceof ConflictError) return 'too late';
                  throw error;
                },
              ),
            ),
          );
          if (task.data.mode === 'waits') {
            await waitFor('the cancel to reach the handler', () => ctx.signal.aborted, {
              timeoutMs: 30_000,
              intervalMs: 5,
            });
            throw new Error('aborted');
          }
          await sleep(jitter(100));
          // Half the handlers honour the signal, half finish regardless: both paths race.
          if (task.data.honours && ctx.signal.aborted) throw new Error('aborted');
          return { key: task.key };
        },
      },
    });
  });

  afterAll(async () => {
    await system?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends every task in exactly one terminal state, recorded once, equal to Redis', async () => {
    const { goalId } = await system.supervisor.submitPlan({
      goal: 'race cancel against completion',
      tasks: Array.from({ length: TASKS }, (_, i) => ({
        key: `t${i}`,
        title: `racer ${i}`,
        type: 'race',
        attempts: 3,
        data: {
          honours: i % 2 === 0,
          mode: i % 25 === 0 ? 'calm' : i % 25 === 1 ? 'waits' : 'race',
        },
      })),
    });
    const tasks = await waitFor(
      'every task terminal in SQL',
      async () => {
        const all = await system.registry.findTasks({ goalId, limit: TASKS });
        return all.length === TASKS && all.every((t) => TERMINAL.has(t.state)) ? all : null;
      },
      { timeoutMs: 45_000 },
    );
    const outcomes = await Promise.all(cancels);

    const states = tasks.map((t) => t.state);
    const done = states.filter((s) => s === 'DONE').length;
    process.stdout.write(
      `race: ${done} DONE, ${TASKS - done} CANCELLED; cancels sent ${outcomes.filter((o) => o === 'sent').length}, too late ${outcomes.filter((o) => o === 'too late').length}\n`,
    );
    expect(new Set(states)).toEqual(new Set(['DONE', 'CANCELLED']));

    const events: TaskEventRecord[] = [];
    for (let after = 0; ;) {
      const page = await system.registry.eventsAfter(after, 5000);
      if (page.length === 0) break;
      events.push(...page.filter((e) => e.goalId === goalId));
      after = page.at(-1)!.seq;
    }
    for (const task of tasks) {
      const own = events.filter((e) => e.taskId === task.id);
      const intoTerminal = own.filter((e) => TERMINAL.has(e.toState));
      const outOfTerminal = own.filter((e) => e.fromState && TERMINAL.has(e.fromState));
      expect([task.key, intoTerminal.map((e) => e.toState)]).toEqual([task.key, [task.state]]);
      expect([task.key, outOfTerminal]).toEqual([task.key, []]);

      const job = await system.redis.queue('race').getJob(task.id);
      const jobState = job ? await job.getState() : 'removed';
      if (task.state === 'DONE') expect([task.key, jobState]).toEqual([task.key, 'completed']);
      else
        expect(['failed', 'removed'].map((state) => `${task.key} ${state}`)).toContain(
          `${task.key} ${jobState}`,
        );
    }
  });
});
