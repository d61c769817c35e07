/**
 * Forks the worker processes of a scaling run (TypeScript through tsx), waits until each says
 * 'ready', starts them together and counts their 'done' messages.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { until } from './context';
import { hrtimeMs } from './stats';

export interface WorkerProcessesOptions {
  /** Path of the worker script, relative to bench/. */
  script: string;
  processes: number;
  env: Record<string, string>;
  /** Runs at the start of the timed window, before 'go' (agentq: resumes the paused queue). */
  onGo?: () => Promise<unknown>;
}

export async function runWorkerProcesses(
  options: WorkerProcessesOptions,
  tasks: number,
): Promise<{ seconds: number }> {
  const children: ChildProcess[] = [];
  let ready = 0;
  let done = 0;
  try {
    for (let p = 0; p < options.processes; p++) {
      const child = fork(join(__dirname, options.script), [], {
        execArgv: ['--require', require.resolve('tsx/cjs')],
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('message', (message) => {
        if (message === 'ready') ready++;
        else if (message === 'done') done++;
      });
      children.push(child);
    }
    await until(() => ready === options.processes, 60_000, 'worker processes to start');
    const t0 = hrtimeMs();
    await options.onGo?.();
    for (const child of children) child.send('go');
    await until(() => done >= tasks, 600_000, `${tasks} tasks in worker processes`);
    return { seconds: (hrtimeMs() - t0) / 1000 };
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.send('stop');
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  }
}
