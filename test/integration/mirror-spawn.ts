/** Starts test/integration/mirror-process.ts as a child and follows what it logs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REDIS_URL } from '../helpers/servers';

export interface MirrorProcess {
  child: ChildProcess;
  /** Every line it printed so far. */
  lines: string[];
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** kill -9, then waits for the exit. */
  killHard(): Promise<void>;
}

export function spawnMirror(path: string, prefix: string, channelPrefix = ''): MirrorProcess {
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('tsx/cjs'),
      join(__dirname, 'mirror-process.ts'),
      path,
      prefix,
      channelPrefix,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Jest gives each test file a copy of process.env: what cluster-env.ts sets there never
      // reaches a child's environment by itself, and the child would mirror the single server.
      env: { ...process.env, TEST_REDIS_URL: REDIS_URL },
    },
  );
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    lines,
    exited,
    killHard: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
