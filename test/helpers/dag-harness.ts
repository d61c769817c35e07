/**
 * The DAG tests' world: two worker processes (test/helpers/dag-worker-process.ts), a SQLite task
 * registry in a temp dir, a coordinator and a supervisor under a prefix of their own.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { GATES_QUEUE, GOALS_QUEUE } from '../../src/queues/names';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import type { RunRecord } from './dag-worker-process';
import { deleteKeysMatching } from './redis-cluster';
import { REDIS_URL, uniquePrefix } from './servers';
import { waitFor } from './wait-for';

export interface DagHarness {
  prefix: string;
  coordinator: RedisCoordinator;
  registry: TaskRegistry;
  supervisor: SupervisorAgent;
  recordKey: string;
  records(): Promise<RunRecord[]>;
  blocked(): Promise<string[]>;
  /** Waits until the goal's root job is completed or failed; returns that state and reason. */
  /** Ids of the goal's jobs still waiting anywhere (waiting-children, delayed, waiting, …). */
  leftovers(goalId: string, queues: string[]): Promise<string[]>;
  /** `agentq` entries of a queue's events stream: taskId → { to, reason, dependency }. */
  agentqEvents(queue: string): Promise<Map<string, Record<string, string>>>;
  goalEnd(goalId: string, timeoutMs?: number): Promise<{ state: string; reason: string }>;
  close(): Promise<void>;
}

function startWorker(name: string, prefix: string, recordKey: string, capabilities: string[]) {
  const child = fork(join(__dirname, 'dag-worker-process.ts'), [], {
    execArgv: ['-r', 'tsx/cjs'],
    env: {
      ...process.env,
      REDIS_URL,
      PREFIX: prefix,
      AGENT_ID: name,
      RECORD_KEY: recordKey,
      CAPABILITIES: capabilities.join(','),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { child, ready };
}

async function stop(child: ChildProcess): Promise<void> {
  const closed = new Promise((resolve) => child.once('close', resolve));
  if (child.exitCode === null) child.kill('SIGTERM');
  await closed;
}

export async function startDagHarness(capabilities: string[]): Promise<DagHarness> {
  const prefix = uniquePrefix('dag');
  const recordKey = `${prefix}:records`;
  const dir = mkdtempSync(join(tmpdir(), 'agentq-dag-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const supervisor = new SupervisorAgent(registry, coordinator, {});
  const workers = [
    startWorker('agent-1', prefix, recordKey, capabilities),
    startWorker('agent-2', prefix, recordKey, capabilities),
  ];
  await Promise.all(workers.map((w) => w.ready));
  return {
    prefix,
    coordinator,
    registry,
    supervisor,
    recordKey,
    async records() {
      const raw = await coordinator.client.lrange(recordKey, 0, -1);
      return raw.map((r) => JSON.parse(r) as RunRecord);
    },
    blocked: () => coordinator.client.lrange(`${recordKey}:blocked`, 0, -1),
    async leftovers(goalId, queues) {
      const out: string[] = [];
      for (const name of [...queues, GATES_QUEUE]) {
        const jobs = await coordinator
          .queue(name, 0)
          .getJobs(['waiting-children', 'delayed', 'waiting', 'prioritized', 'active']);
        for (const job of jobs) if (job?.id?.startsWith(`${goalId}.`)) out.push(job.id);
      }
      return out;
    },
    async agentqEvents(queue) {
      const entries = await coordinator.client.xrange(
        coordinator.queue(queue, 0).keys.events!,
        '-',
        '+',
      );
      const out = new Map<string, Record<string, string>>();
      for (const [, fields] of entries) {
        const f: Record<string, string> = {};
        for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        if (f.event === 'agentq' && f.taskId) out.set(f.taskId, f);
      }
      return out;
    },
    async goalEnd(goalId, timeoutMs = 60000) {
      const queue = coordinator.queue(GOALS_QUEUE, 0);
      return waitFor(
        `goal ${goalId} to end`,
        async () => {
          const state = await queue.getJobState(goalId);
          if (state !== 'completed' && state !== 'failed') return null;
          const job = await queue.getJob(goalId);
          return { state, reason: job?.failedReason ?? '' };
        },
        { timeoutMs, intervalMs: 50 },
      );
    },
    async close() {
      await Promise.all(workers.map((w) => stop(w.child)));
      await supervisor.close();
      // Only this file's keys: everything under its own prefix's hash tag.
      await deleteKeysMatching(coordinator.client, `{${prefix}}*`);
      await coordinator.close();
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
