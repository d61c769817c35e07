/**
 * Issue 5's mirror crash test, with the real programs: `agentq serve` and `agentq worker` as
 * child processes, one goal of 10,000 tasks submitted through `POST /api/goals`, `kill -9` of
 * serve once SQL recorded a good share of the transitions, serve started again on the same db and
 * prefix. Then SQL equals Redis, task_events' seq is 1..N with no gap, no transition is recorded
 * twice, and every task has its whole history.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskEventRecord } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import type { TaskState } from '../../src/entities/task-state';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { taskJobId } from '../../src/queues/task-job';
import { deleteKeysMatching } from '../helpers/redis-cluster';
import { freePort } from '../helpers/redis-server';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { spawnAgentq, type AgentqProcess } from '../helpers/serve-process';
import { waitFor } from '../helpers/wait-for';

// 10,000 tasks through real processes on a loaded 2-core machine: a minute is typical.
jest.setTimeout(180_000);

const PAIRS = 5000; // `s<i>` (stage) → `f<i>` (finish, waits for s<i>): 10,000 tasks
const TASKS = PAIRS * 2;
// new, claimed, started, complete for every task; `f<i>` also BACKLOG → PENDING.
const TRANSITIONS = PAIRS * 4 + PAIRS * 5;
const HANDLERS = join(__dirname, '..', 'fixtures', 'handlers', 'serve-crash.cjs');

/** The SQL state a task whose BullMQ job is in this state must have once the mirror caught up. */
const SQL_STATE_OF: Record<string, TaskState> = { completed: 'DONE', failed: 'FAILED' };

function plan() {
  const tasks = [];
  for (let i = 0; i < PAIRS; i++) {
    tasks.push({ key: `s${i}`, title: `stage ${i}`, type: 'stage' });
    tasks.push({ key: `f${i}`, title: `finish ${i}`, type: 'finish', dependsOn: [`s${i}`] });
  }
  return { goal: 'serve crash: 10,000 tasks', tasks };
}

describe('kill -9 of agentq serve during a goal of 10,000 tasks', () => {
  const prefix = uniquePrefix('servecrash');
  const dir = mkdtempSync(join(tmpdir(), 'agentq-serve-crash-'));
  const db = `sqlite:${join(dir, 'agentq.db')}`;
  const common = ['--redis', REDIS_URL, '--db', db, '--prefix', prefix];
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  // Read-only here: the mirror (in serve, or the worker's candidate) is the one writer of this file.
  const store = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const processes: AgentqProcess[] = [];
  let storeOpen = false;

  function startServe(port: number): AgentqProcess {
    const serve = spawnAgentq(['serve', '--port', String(port), ...common]);
    processes.push(serve);
    return serve;
  }

  afterAll(async () => {
    for (const p of processes) await p.stop();
    if (storeOpen) await store.close();
    await deleteKeysMatching(coordinator.client, `{${prefix}}*`);
    await coordinator.close();
    // KEEP_DB=1 keeps the SQLite file to look at after a failure.
    if (!process.env.KEEP_DB) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  });

  it('SQL equals Redis afterwards: no gap in seq, no transition twice, every history whole', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = startServe(port);
    const healthy = () =>
      waitFor('serve to answer /healthz', async () => (await fetch(`${base}/healthz`)).ok, {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
    await healthy().catch((error: Error) => {
      throw new Error(`${error.message}\n${first.lines.join('\n')}`);
    });
    await store.open();
    storeOpen = true;
    processes.push(
      spawnAgentq([
        'worker',
        '--id',
        'crash-worker',
        '--capabilities',
        'stage,finish',
        '--concurrency',
        '50',
        '--handlers',
        HANDLERS,
        ...common,
      ]),
    );

    const response = await fetch(`${base}/api/goals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ plan: plan() }),
    });
    expect(response.status).toBe(201);
    const { goalId } = (await response.json()) as { goalId: string };

    // A good share recorded (every `new` plus some thousands more), but not all of it.
    await waitFor(
      'a good share of the transitions in SQL',
      async () => {
        const seq = await store.lastSeq();
        return seq > TASKS + 8000;
      },
      { timeoutMs: 90_000, intervalMs: 50 },
    ).catch(async (error: Error) => {
      const seen = `SQL at seq ${await store.lastSeq()}`;
      const said = processes.map((p) => p.lines.slice(-20).join('\n')).join('\n--\n');
      throw new Error(`${error.message}: ${seen}\n${said}`);
    });
    await first.killHard();
    const recordedAtKill = await store.lastSeq();
    const finishedAtKill = (await coordinator.queue('finish').getJobCounts('completed')).completed;
    expect(recordedAtKill).toBeLessThan(TRANSITIONS);
    // The worker's candidate takes the lock once it expires (the worker runs one too), or the
    // second serve does; either goes on from the cursor. Then the same db, prefix and port.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = startServe(port);
    await healthy();

    const stage = coordinator.queue('stage');
    const finish = coordinator.queue('finish');
    await waitFor(
      'every job to finish in Redis',
      async () => {
        const [s, f] = await Promise.all([
          stage.getJobCounts('completed', 'failed'),
          finish.getJobCounts('completed', 'failed'),
        ]);
        return s.completed! + s.failed! === PAIRS && f.completed! + f.failed! === PAIRS;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    await waitFor(
      'the goal to end in SQL and the mirror to catch up',
      async () => {
        const goal = await store.getGoal(goalId);
        const counts = await store.countByState();
        return goal?.state !== 'ACTIVE' && counts.DONE + counts.FAILED === TASKS;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${second.lines.slice(-40).join('\n')}`);
    });
    const tookOver = processes
      .slice(1)
      .filter((p) => p.lines.some((l) => l.includes('mirror: leading')));
    expect(tookOver.length).toBeGreaterThan(0);

    // SQL equals Redis: each task's state is the one its BullMQ job's state means.
    const redisState = new Map<string, TaskState>();
    for (const queue of [stage, finish]) {
      for (const [bullState, sqlState] of Object.entries(SQL_STATE_OF)) {
        const ids = await coordinator.client.zrange(`${queue.keys[bullState]}`, 0, -1);
        for (const id of ids) redisState.set(id, sqlState);
      }
    }
    expect(redisState.size).toBe(TASKS);
    const tasks = await store.findTasks({ goalId, limit: TASKS + 1 });
    expect(tasks).toHaveLength(TASKS);
    const mismatched = tasks.filter((t) => redisState.get(t.id) !== t.state);
    expect(
      mismatched.map((t) => `${t.key}: SQL ${t.state}, Redis ${redisState.get(t.id)}`),
    ).toEqual([]);
    // The handler never fails: everything is DONE, with the result it returned, and so is the goal.
    expect(tasks.every((t) => t.state === 'DONE')).toBe(true);
    const withoutResult = tasks.filter((t) => (t.result as { key?: string } | null)?.key !== t.key);
    expect(withoutResult.slice(0, 5).map((t) => `${t.key}: ${JSON.stringify(t.result)}`)).toEqual(
      [],
    );
    expect((await store.getGoal(goalId))?.state).toBe('DONE');

    // The audit log: seq is 1..N with no gap.
    const events: TaskEventRecord[] = [];
    for (;;) {
      const page = await store.eventsAfter(events.at(-1)?.seq ?? 0, 10_000);
      if (page.length === 0) break;
      events.push(...page);
    }
    const gaps = events.filter((e, i) => e.seq !== i + 1).slice(0, 5);
    expect(gaps.map((e) => e.seq)).toEqual([]);
    expect(events.at(-1)?.seq).toBe(events.length);

    // No transition recorded twice: (task, event, attempt, from → to) at most once.
    const seen = new Map<string, number>();
    for (const e of events) {
      const id = `${e.taskId} ${e.event} ${e.attempt} ${e.fromState}->${e.toState}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    expect([...seen].filter(([, n]) => n > 1).slice(0, 5)).toEqual([]);

    // Every task's whole history: `new`, each event leaving the state the previous one entered,
    // ending `complete` in DONE (a reconcile after trimming may skip steps, never invent them).
    const byTask = new Map<string, TaskEventRecord[]>();
    for (const e of events) {
      const list = byTask.get(e.taskId) ?? [];
      list.push(e);
      byTask.set(e.taskId, list);
    }
    expect(byTask.size).toBe(TASKS);
    const broken: string[] = [];
    for (let i = 0; i < PAIRS; i++) {
      for (const key of [`s${i}`, `f${i}`]) {
        const history = byTask.get(taskJobId(goalId, key)) ?? [];
        const chain = history.map((e) => `${e.fromState ?? '∅'}->${e.toState}`).join(' ');
        const linked = history.every((e, j) => j === 0 || e.fromState === history[j - 1]!.toState);
        const whole =
          history[0]?.event === 'new' &&
          history.at(-1)?.event === 'complete' &&
          history.at(-1)?.toState === 'DONE' &&
          history.some((e) => e.toState === 'ACTIVE');
        if (!linked || !whole) broken.push(`${key}: ${chain}`);
      }
    }
    expect(broken.slice(0, 10)).toEqual([]);
    // Written to the test output so a run shows how much the crash interrupted.
    process.stdout.write(
      `serve-crash: ${events.length} transitions, ${recordedAtKill} recorded before kill -9 ` +
        `(${finishedAtKill} of ${PAIRS} finish jobs done in Redis then); second serve: ` +
        `${second.lines.filter((l) => l.includes('mirror')).join(' | ')}\n`,
    );
  });
});
