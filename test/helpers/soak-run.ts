/**
 * The soak: `tasks` tasks (goals of up to 1,000 independent tasks) through `workers` agent
 * processes (test/helpers/soak-worker.ts) whose handler fails `failRate` of attempts at random,
 * with one agent killed -9 and restarted every `crashEveryMs`. This process runs the rest of a
 * deployment (createAgentSystem: mirror, gate/goal workers, supervisor) on a fresh SQLite file.
 * At the end it checks, from SQL and Redis, that every task ended DONE, or FAILED and in the
 * dead-letter queue, exactly once, and that SQL holds every event; it samples Redis memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAgentSystem, type AgentSystem } from '../../src/agent-system';
import type { TaskRecord } from '../../src/entities/task-model';
import { listDeadLetters } from '../../src/processors/dead-letters';
import { deleteKeysMatching } from './redis-cluster';
import type { SoakWorkerConfig } from './soak-worker';

export interface SoakOptions {
  redisUrl: string;
  prefix: string;
  /** @defaultValue 200000 */
  tasks?: number;
  /** @defaultValue 4 */
  workers?: number;
  /** @defaultValue 8 */
  concurrency?: number;
  /** Share of attempts that throw. @defaultValue 0.05 */
  failRate?: number;
  /** Attempts per task. @defaultValue 2 */
  attempts?: number;
  /** Handler time per task. @defaultValue 2 */
  ms?: number;
  /** @defaultValue 60000 */
  crashEveryMs?: number;
  /** @defaultValue Infinity */
  maxCrashes?: number;
  /** @defaultValue 10000 */
  sampleEveryMs?: number;
  /** Give up waiting for the end after this long. @defaultValue 3 hours */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  tasks: number;
  done: number;
  failed: number;
  deadLetters: number;
  crashes: number;
  seconds: number;
  events: number;
  /** Problems found by the end checks; empty when nothing was lost or doubled. */
  problems: string[];
  /** Redis `used_memory` samples (bytes) over the run, and the jobs Redis still holds. */
  memory: { samples: Array<{ atS: number; usedBytes: number }>; keptJobs: number };
}

const GOAL_SIZE = 1000;
const TERMINAL = new Set(['DONE', 'FAILED', 'CANCELLED']);

async function startWorker(config: SoakWorkerConfig): Promise<ChildProcess> {
  const script = resolve(__dirname, 'soak-worker.ts');
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', script, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ready, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && ready());
    child.once('exit', (code) => fail(new Error(`soak worker exited with ${code}`)));
  });
  return child;
}

async function stopWorker(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill(signal);
  await exited;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function usedMemory(system: AgentSystem): Promise<number> {
  const info = await system.redis.client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Reads every event of the SQL audit log; returns the problems seen in it. */
async function checkEvents(
  system: AgentSystem,
  tasks: Map<string, TaskRecord>,
  watched: Map<string, string[]> = new Map(),
): Promise<{ events: number; problems: string[] }> {
  const problems: string[] = [];
  const terminalEvents = new Map<string, number>();
  const firstEvent = new Set<string>();
  let expectedSeq = 0;
  let events = 0;
  for (let after = 0; ;) {
    // Small pages with a yield between: the store answers synchronously, and a loop of
    // resolved promises would starve the mirror's lock renewal in this process (4.8 s seen).
    await yieldToEventLoop();
    const page = await system.registry.eventsAfter(after, 2_000);
    if (page.length === 0) break;
    for (const e of page) {
      events++;
      watched
        .get(e.taskId)
        ?.push(`${e.seq} ${e.fromState}→${e.toState} ${JSON.stringify(e.detail)}`);
      if (expectedSeq !== 0 && e.seq !== expectedSeq + 1) {
        problems.push(`seq gap: ${expectedSeq} → ${e.seq}`);
      }
      expectedSeq = e.seq;
      if (e.fromState === null) firstEvent.add(e.taskId);
      if (e.fromState && TERMINAL.has(e.fromState)) {
        problems.push(`${e.taskId}: transition out of ${e.fromState} to ${e.toState}`);
      }
      if (TERMINAL.has(e.toState)) {
        terminalEvents.set(e.taskId, (terminalEvents.get(e.taskId) ?? 0) + 1);
      }
    }
    after = page.at(-1)!.seq;
  }
  for (const task of tasks.values()) {
    if (!firstEvent.has(task.id)) problems.push(`${task.id}: no creation event`);
    const n = terminalEvents.get(task.id) ?? 0;
    if (n !== 1) problems.push(`${task.id}: ${n} transitions into a terminal state`);
  }
  return { events, problems };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const total = options.tasks ?? 200_000;
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'agentq-soak-'));
  const system = await createAgentSystem({
    config: {
      REDIS_URL: options.redisUrl,
      AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`,
      AGENTQ_PREFIX: options.prefix,
    },
    onLog: (line) => log(`system: ${line}`),
  });
  let generation = 0;
  const workerConfig = (): SoakWorkerConfig => ({
    url: options.redisUrl,
    prefix: options.prefix,
    agentId: `soak-${++generation}`,
    concurrency: options.concurrency ?? 8,
    failRate: options.failRate ?? 0.05,
    ms: options.ms ?? 2,
    lockDurationMs: 5000,
    stalledIntervalMs: 2000,
  });
  const workers: ChildProcess[] = [];
  const samples: SoakReport['memory']['samples'] = [];
  const started = Date.now();
  let crashes = 0;
  let crashTimer: NodeJS.Timeout | undefined;
  let sampleTimer: NodeJS.Timeout | undefined;
  try {
    for (let i = 0; i < (options.workers ?? 4); i++)
      workers.push(await startWorker(workerConfig()));
    // Memory, and how far Redis, SQL and the mirror are (a stalled mirror shows here).
    const sample = async () => {
      samples.push({ atS: (Date.now() - started) / 1000, usedBytes: await usedMemory(system) });
      const jobs = await system.redis.queue('soak').getJobCounts('completed', 'failed');
      log(
        `redis ${JSON.stringify(jobs)} sql ${JSON.stringify(await system.registry.countByState())} ` +
          `mirror ${JSON.stringify(system.mirror?.stats)}`,
      );
    };
    await sample();
    sampleTimer = setInterval(
      () => void sample().catch(() => undefined),
      options.sampleEveryMs ?? 10_000,
    );

    // A crash: kill -9 one agent mid-task, start a fresh one in its place. The clock starts
    // before the submission: the agents run tasks while goals are still being submitted.
    const crash = async () => {
      if (crashes >= (options.maxCrashes ?? Infinity)) return;
      crashes++;
      const victim = Math.floor(Math.random() * workers.length);
      await stopWorker(workers[victim]!, 'SIGKILL');
      log(`crash ${crashes}: killed agent ${victim} -9`);
      workers[victim] = await startWorker(workerConfig());
    };
    let crashing: Promise<void> = Promise.resolve();
    crashTimer = setInterval(() => {
      crashing = crashing
        .then(crash)
        .catch((error: unknown) => log(`crash failed: ${String(error)}`));
    }, options.crashEveryMs ?? 60_000);

    const goalIds: string[] = [];
    for (let first = 0; first < total; first += GOAL_SIZE) {
      const size = Math.min(GOAL_SIZE, total - first);
      const { goalId } = await system.supervisor.submitPlan({
        goal: `soak ${first}`,
        tasks: Array.from({ length: size }, (_, i) => ({
          key: `t${first + i}`,
          title: `soak task ${first + i}`,
          type: 'soak',
          attempts: options.attempts ?? 2,
          // Optional: a goal otherwise fails fast, cancelling its unfinished tasks when one
          // fails for good (by design); the soak wants each task's own fate.
          optional: true,
          data: { n: first + i },
        })),
      });
      goalIds.push(goalId);
    }
    log(`submitted ${total} tasks in ${goalIds.length} goals`);

    // The end is Redis's: every job finished. SQL then gets a bounded while to catch up, and
    // whatever it still misses is reported as a problem rather than waited for forever.
    const deadline = started + (options.timeoutMs ?? 3 * 3600_000);
    const queue = system.redis.queue('soak');
    for (;;) {
      const jobs = await queue.getJobCounts('completed', 'failed');
      if ((jobs.completed ?? 0) + (jobs.failed ?? 0) >= total) break;
      if (Date.now() > deadline) throw new Error(`soak timed out with ${JSON.stringify(jobs)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // Until every task ended in SQL, or the mirror went idle (no new event for 60 s: a reconcile commits one large batch): what is
    // missing then is lost, not late.
    let lastSeq = -1;
    let idleSince = Date.now();
    for (;;) {
      const counts = await system.registry.countByState();
      if (counts.DONE + counts.FAILED + counts.CANCELLED >= total) break;
      const seq = await system.registry.lastSeq();
      if (seq !== lastSeq) [lastSeq, idleSince] = [seq, Date.now()];
      else if (Date.now() - idleSince > 60_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    clearInterval(crashTimer);
    await crashing;
    await sample();
    const seconds = (Date.now() - started) / 1000;

    const tasks = new Map<string, TaskRecord>();
    for (const goalId of goalIds) {
      await yieldToEventLoop();
      for (const t of await system.registry.findTasks({ goalId, limit: GOAL_SIZE })) {
        tasks.set(t.id, t);
      }
    }
    const problems: string[] = [];
    if (tasks.size !== total) problems.push(`${tasks.size} tasks in SQL, expected ${total}`);
    const letters = (await listDeadLetters(system.redis)).filter((d) => tasks.has(d.taskId));
    const lettered = new Map<string, number>();
    for (const d of letters) lettered.set(d.taskId, (lettered.get(d.taskId) ?? 0) + 1);
    let done = 0;
    let failed = 0;
    for (const t of tasks.values()) {
      if (t.state === 'DONE') done++;
      else if (t.state === 'FAILED') failed++;
      else problems.push(`${t.id}: ended ${t.state}`);
      const n = lettered.get(t.id) ?? 0;
      if (t.state === 'FAILED' && n !== 1) problems.push(`${t.id}: FAILED with ${n} dead letters`);
      if (t.state === 'DONE' && n !== 0) problems.push(`${t.id}: DONE yet dead-lettered`);
    }
    const jobCounts = await system.redis.queue('soak').getJobCounts('completed', 'failed');
    if (jobCounts.completed !== done) {
      problems.push(`Redis has ${jobCounts.completed} completed jobs, SQL ${done} DONE`);
    }
    // Up to 10 tasks that did not end: their SQL head and history next to their job, to tell
    // an entry the mirror lost from a task a reconcile skipped.
    const stuck = [...tasks.values()].filter((t) => !TERMINAL.has(t.state)).slice(0, 10);
    const watched = new Map(stuck.map((t) => [t.id, [] as string[]]));
    const checked = await checkEvents(system, tasks, watched);
    log(`mirror stats: ${JSON.stringify(system.mirror?.stats)}`);
    for (const t of stuck) {
      const job = await system.redis.queue('soak').getJob(t.id);
      const state = job ? await job.getState() : 'gone';
      log(
        `stuck ${t.id} ${t.state} attempt ${t.attempt} epoch ${t.epoch} updated ${t.updatedAt.toISOString()}: ` +
          `job ${state} atm ${job?.attemptsMade} processedOn ${job?.processedOn} finishedOn ${job?.finishedOn} ` +
          `progress ${JSON.stringify(job?.progress)}; events: ${watched.get(t.id)!.join(' | ')}`,
      );
    }
    problems.push(...checked.problems);
    return {
      tasks: total,
      done,
      failed,
      deadLetters: letters.length,
      crashes,
      seconds,
      events: checked.events,
      problems: problems.slice(0, 50),
      memory: { samples, keptJobs: (jobCounts.completed ?? 0) + (jobCounts.failed ?? 0) },
    };
  } finally {
    clearInterval(crashTimer);
    clearInterval(sampleTimer);
    await Promise.all(workers.map((w) => stopWorker(w, 'SIGTERM')));
    // The soak's keys only (its own prefix): a shared Redis gets its memory back.
    await deleteKeysMatching(system.redis.client, `{${options.prefix}}*`).catch(() => undefined);
    await system.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
