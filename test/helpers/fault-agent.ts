/**
 * An AutonomousAgent in its own process for the fault tests:
 * `node -r tsx/cjs test/helpers/fault-agent.ts '<json FaultAgentConfig>'`. Its handler (every
 * capability) appends one JSON line per start and per end to `recordFile` — a file, not Redis,
 * because these tests wipe, kill and pause Redis — and sleeps `task.data.ms` (abortable). A task
 * with `data.cpuMs` instead reports progress and keeps the CPU busy that long (a handler that
 * computes: the agent's event loop waits on it, as it would on real work). A task with
 * `data.tokens` reports that use (`ctx.usage`) once it is done; one with `data.spawn` spawns
 * those tasks (ctx.spawn) first; one listed in its own `data.failKeys` fails for good.
 * Prints `ready` once its workers run; SIGTERM closes it.
 */
import { appendFileSync } from 'node:fs';
import { UnrecoverableError } from 'bullmq';
import type { Json, TaskSpec } from '../../src/entities/task-model';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import type { TaskContext, TaskInput } from '../../src/processors/handler-types';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';

export interface FaultAgentConfig {
  url: string;
  prefix: string;
  agentId: string;
  capabilities: string[];
  recordFile: string;
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export interface FaultRecord {
  phase: 'start' | 'end' | 'aborted';
  key: string;
  taskId: string;
  agentId: string;
  attempt: number;
  /** Wall-clock ms in this process. */
  at: number;
  deps?: { [key: string]: Json };
}

function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Computing, as a CPU-bound handler does: nothing else runs in this process meanwhile.
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error(String(signal.reason)));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new Error(String(signal.reason)));
      },
      { once: true },
    );
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as FaultAgentConfig;
  const write = (record: Omit<FaultRecord, 'agentId' | 'at'>) =>
    appendFileSync(
      config.recordFile,
      `${JSON.stringify({ ...record, agentId: config.agentId, at: Date.now() })}\n`,
    );
  const handler = async (task: TaskInput, ctx: TaskContext): Promise<Json> => {
    const base = { key: task.key, taskId: task.id, attempt: task.attempt };
    write({ ...base, phase: 'start' });
    if (Array.isArray(task.data.spawn)) await ctx.spawn(task.data.spawn as unknown as TaskSpec[]);
    // `failKeys`: fails for good when its key is listed (a repair's retry inherits the list).
    if (Array.isArray(task.data.failKeys) && task.data.failKeys.includes(task.key)) {
      write({ ...base, phase: 'aborted' });
      throw new UnrecoverableError(`task ${task.key} failed on purpose`);
    }
    const ms = typeof task.data.ms === 'number' ? task.data.ms : 0;
    try {
      if (typeof task.data.cpuMs === 'number') {
        await ctx.progress({ step: 'computing' });
        busy(task.data.cpuMs);
      } else {
        await sleep(ms, ctx.signal);
      }
    } catch (error) {
      write({ ...base, phase: 'aborted' });
      throw error;
    }
    if (typeof task.data.tokens === 'number') await ctx.usage({ tokens: task.data.tokens });
    write({ ...base, phase: 'end', deps: ctx.dependencies });
    return { from: task.key, by: config.agentId };
  };
  const coordinator = new RedisCoordinator({
    url: config.url,
    prefix: config.prefix,
    onError: () => undefined,
  });
  const agent = new AutonomousAgent({
    agentId: config.agentId,
    capabilities: config.capabilities,
    redisCoordinator: coordinator,
    handlers: Object.fromEntries(config.capabilities.map((c) => [c, handler])),
    concurrency: config.concurrency ?? 2,
    breaker: false,
    graceMs: 1000,
    heartbeatMs: 500,
    lockDurationMs: config.lockDurationMs ?? 30000,
    stalledIntervalMs: config.stalledIntervalMs ?? 15000,
    onError: () => undefined,
  });
  process.once('SIGTERM', () => {
    void agent
      .close({ graceMs: 500 })
      .then(() => coordinator.close())
      .finally(() => process.exit(0));
  });
  await agent.start();
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
