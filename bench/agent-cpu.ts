/**
 * CPU per task of the process that drains no-op tasks: agentq's agent (mirror and bridge on or
 * off, in the same process as in `agentq bench`) or a plain BullMQ Worker, at the same
 * concurrency. Only the draining is measured (tasks are added first), as the throughput bench
 * does; `--profile FILE` writes a V8 CPU profile of that phase alone.
 *
 *   npx tsx bench/agent-cpu.ts --redis redis://127.0.0.1:6477 --side agentq --mirror --tasks 20000
 *   npx tsx bench/agent-cpu.ts --redis redis://127.0.0.1:6477 --side bullmq --tasks 20000
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startBenchSystem } from './agentq/system';
import { benchConnection, benchPrefix, deleteByPrefix, until } from './context';
import { hrtimeMs } from './stats';

/** Redis's own CPU (user + sys, ms) and calls per command so far. */
async function redisStats(client: Redis): Promise<{ cpuMs: number; calls: Map<string, number> }> {
  const info = (await client.info('cpu')) + (await client.info('commandstats'));
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1]);
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) calls.set(m[1]!, Number(m[2]));
  return { cpuMs: (field('used_cpu_user') + field('used_cpu_sys')) * 1000, calls };
}

interface Drain {
  /** Starts draining; resolves when every task has completed. */
  run(): Promise<void>;
  close(): Promise<void>;
}

async function agentqDrain(url: string, tasks: number, mirror: boolean, concurrency: number) {
  const system = await startBenchSystem({ url } as never, benchPrefix('cpu'), { mirror });
  await system.submit({
    goal: 'cpu',
    tasks: Array.from({ length: tasks }, (_, i) => ({
      key: `t${i}`,
      title: `t${i}`,
      type: 'noop',
    })),
  });
  const drain: Drain = {
    async run() {
      await system.agent({
        agentId: 'cpu-1',
        capabilities: ['noop'],
        concurrency,
        breaker: false,
        handlers: { noop: () => null },
      });
      while ((await system.completed('noop')) < tasks) await new Promise((r) => setTimeout(r, 10));
    },
    close: () => system.close(),
  };
  return drain;
}

async function bullmqDrain(url: string, tasks: number, concurrency: number) {
  const prefix = `{${benchPrefix('cpu')}}`;
  const connection = benchConnection({ url } as never);
  const queue = new Queue('noop', { connection, prefix });
  for (let i = 0; i < tasks; i += 1000) {
    const n = Math.min(1000, tasks - i);
    await queue.addBulk(
      Array.from({ length: n }, (_, j) => ({ name: 'noop', data: { i: i + j } })),
    );
  }
  const workerConnection = benchConnection({ url } as never);
  let done = 0;
  const worker = new Worker('noop', async () => null, {
    connection: workerConnection,
    prefix,
    concurrency,
    autorun: false,
  });
  worker.on('completed', () => void done++);
  const drain: Drain = {
    async run() {
      void worker.run();
      await until(() => done >= tasks, 600_000, 'jobs');
    },
    async close() {
      await worker.close();
      await queue.close();
      await workerConnection.quit();
      await deleteByPrefix(connection, prefix.slice(1, -1));
      await connection.quit();
    },
  };
  return drain;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
      side: { type: 'string', default: 'agentq' },
      tasks: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '50' },
      mirror: { type: 'boolean', default: false },
      profile: { type: 'string' },
    },
  });
  const tasks = Number(values.tasks);
  const concurrency = Number(values.concurrency);
  const side = values.side!;
  const drain =
    side === 'bullmq'
      ? await bullmqDrain(values.redis!, tasks, concurrency)
      : await agentqDrain(values.redis!, tasks, values.mirror!, concurrency);
  const stats = new Redis(values.redis!);
  const redis0 = await redisStats(stats);
  const session = values.profile ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const t0 = hrtimeMs();
  await drain.run();
  const ms = hrtimeMs() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(values.profile!, JSON.stringify(profile));
    session.disconnect();
  }
  const redis1 = await redisStats(stats);
  await stats.quit();
  await drain.close();
  const perTask = [...redis1.calls]
    .map(([c, n]) => [c, (n - (redis0.calls.get(c) ?? 0)) / tasks] as const)
    .filter(([, n]) => n >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(
    JSON.stringify({
      side,
      mirror: side === 'agentq' ? values.mirror : false,
      concurrency,
      tasks,
      tasksPerSecond: Math.round((tasks / ms) * 1000),
      cpuMsPerTask: +(cpuMs / tasks).toFixed(3),
      userMsPerTask: +(cpu.user / 1000 / tasks).toFixed(3),
      cpuBusy: +(cpuMs / ms).toFixed(2),
      redisCpuMsPerTask: +((redis1.cpuMs - redis0.cpuMs) / tasks).toFixed(3),
      redisCallsPerTask: +perTask.reduce((sum, [, n]) => sum + n, 0).toFixed(2),
    }),
  );
  console.log(`  per task: ${perTask.map(([c, n]) => `${c}=${n.toFixed(2)}`).join(' ')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
