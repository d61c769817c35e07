import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Json } from '../../src/entities/task-model';
import type {
  ExecutionMetrics,
  ExecutorContext,
  TaskInput,
} from '../../src/processors/handler-types';
import { sampleProcess } from '../../src/processors/process-tree';
import {
  createShellHandler,
  ShellCommandError,
  type ShellResult,
  type ShellTaskFile,
} from '../../src/processors/shell-executor';
import { waitFor } from '../helpers/wait-for';

let workdir: string;

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'agentq-shell-test-'));
});

afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

function taskInput(overrides: Partial<TaskInput> = {}): TaskInput {
  return {
    id: 'g-0123456789abcdef.build',
    goalId: 'g-0123456789abcdef',
    key: 'build',
    title: 'Build it',
    description: 'A task for the shell executor',
    type: 'shell',
    priority: 5,
    data: { n: 1 },
    dependsOn: ['design'],
    attempt: 2,
    ...overrides,
  };
}

function context(signal = new AbortController().signal) {
  const metrics: ExecutionMetrics[] = [];
  const usages: Array<{ tokens?: number; costUsd?: number }> = [];
  const spawns: unknown[] = [];
  const ctx: ExecutorContext = {
    signal,
    dependencies: { design: { schema: 'users' } },
    progress: async () => {},
    log: async () => {},
    usage: async (report) => {
      usages.push(report);
    },
    // The executor's side of a spawn only: the agent's (spawn.ts) is tested with real agents.
    spawn: async (tasks) => {
      spawns.push(tasks);
      return tasks.map((t) => ({ key: t.key, id: `g-test.${t.key}` }));
    },
    agentId: 'shell-agent-1',
    workdir,
    recordMetrics: (m) => metrics.push(m),
  };
  return { ctx, metrics, usages, spawns };
}

/** Gone, or a zombie nobody has reaped yet (it no longer runs). */
async function notRunning(pid: number): Promise<boolean> {
  const sample = await sampleProcess(pid);
  return sample === null || sample.state === 'Z';
}

describe('shell executor: task data never becomes code', () => {
  const marker = join(tmpdir(), `pwned-${randomBytes(6).toString('hex')}`);
  const hostileTitles = [
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `"; touch ${marker}; echo "`,
    `'; touch ${marker}; echo '`,
    `x\ntouch ${marker}\n`,
    `; rm -rf ${marker}-dir; touch ${marker}`,
    `| touch ${marker} & touch ${marker} && touch ${marker}`,
  ];

  afterAll(async () => {
    await rm(marker, { force: true });
  });

  it.each(hostileTitles)('passes the title %j verbatim and runs nothing of it', async (title) => {
    // The classic consumer: a shell script that uses the variable, correctly quoted.
    const handler = createShellHandler([
      'sh',
      '-c',
      'printf "%s" "$AGENTQ_TASK_TITLE" > title.txt; echo "{\\"seen\\": true}"',
    ]);
    const { ctx } = context();
    const result = (await handler(taskInput({ title, data: { cmd: title } }), ctx)) as ShellResult;
    expect(result.exitCode).toBe(0);
    expect(result.output).toEqual({ seen: true });
    expect(await readFile(join(workdir, 'title.txt'), 'utf8')).toBe(title);
    expect(existsSync(marker)).toBe(false);
  });

  it('hands the task, its dependencies and its place over as environment and a JSON file', async () => {
    const script = [
      'const fs = require("fs");',
      'const file = JSON.parse(fs.readFileSync(process.env.AGENTQ_TASK_FILE, "utf8"));',
      'const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("AGENTQ_")));',
      'console.log("some log line");',
      'console.log(JSON.stringify({ file, env, cwd: process.cwd() }));',
    ].join('\n');
    const handler = createShellHandler(['node', '-e', script], { env: { EXTRA: '1' } });
    const { ctx } = context();
    const task = taskInput({ title: `quote ' and "double" and $(x)` });
    const result = (await handler(task, ctx)) as ShellResult;
    const output = result.output as unknown as {
      file: ShellTaskFile;
      env: { [k: string]: string };
      cwd: string;
    };
    expect(output.file.task).toEqual(task);
    expect(output.file.dependencies).toEqual({ design: { schema: 'users' } });
    expect(output.env).toMatchObject({
      AGENTQ_TASK_ID: task.id,
      AGENTQ_TASK_KEY: 'build',
      AGENTQ_TASK_TITLE: task.title,
      AGENTQ_TASK_TYPE: 'shell',
      AGENTQ_GOAL_ID: task.goalId,
      AGENTQ_ATTEMPT: '2',
      AGENTQ_WORKDIR: workdir,
    });
    expect(output.cwd).toBe(workdir);
    expect(existsSync(output.env.AGENTQ_TASK_FILE!)).toBe(false); // removed after the run
  });
});

describe('shell executor: exits, tails and output', () => {
  it('fails the attempt on a non-zero exit, naming the code and the stderr tail', async () => {
    const handler = createShellHandler(`sh -c 'echo partial; echo "disk full" >&2; exit 3'`);
    const error = await Promise.resolve(handler(taskInput(), context().ctx)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ShellCommandError);
    const failure = error as ShellCommandError;
    expect(failure.message).toMatch(/exited with code 3: disk full/);
    expect(failure.exitCode).toBe(3);
    expect(failure.stdoutTail).toBe('partial\n');
  });

  it('fails the attempt when the command dies of a signal', async () => {
    const handler = createShellHandler(['sh', '-c', 'kill -9 $$']);
    await expect(handler(taskInput(), context().ctx)).rejects.toThrow('was killed by SIGKILL');
  });

  it('fails the attempt when the program does not exist', async () => {
    const handler = createShellHandler('no-such-program-agentq --flag');
    await expect(handler(taskInput(), context().ctx)).rejects.toThrow(
      /no-such-program-agentq could not start/,
    );
  });

  it('says so when the workdir does not exist', async () => {
    const handler = createShellHandler('true');
    const { ctx } = context();
    await expect(
      handler(taskInput(), { ...ctx, workdir: join(workdir, 'missing') }),
    ).rejects.toThrow(/its workdir .*missing does not exist/);
  });

  it('keeps the last 4 KiB of stdout and stderr and parses a JSON last line', async () => {
    const script = [
      'process.stderr.write("e".repeat(10000) + "END-ERR");',
      'process.stdout.write("o".repeat(100000) + "\\n");',
      'process.stdout.write(JSON.stringify({ big: "x".repeat(6000) }) + "\\n\\n");',
    ].join('\n');
    const handler = createShellHandler(['node', '-e', script]);
    const result = (await handler(taskInput(), context().ctx)) as ShellResult;
    expect(Buffer.byteLength(result.stdout)).toBe(4096);
    expect(Buffer.byteLength(result.stderr)).toBe(4096);
    expect(result.stderr.endsWith('END-ERR')).toBe(true);
    expect(result.output).toEqual({ big: 'x'.repeat(6000) });
  });

  it('gives no output when the last line is not JSON', async () => {
    const handler = createShellHandler(['sh', '-c', 'echo "{\\"a\\": 1}"; echo done']);
    const result = (await handler(taskInput(), context().ctx)) as { [k: string]: Json };
    expect(result).toEqual({ exitCode: 0, stdout: '{"a": 1}\ndone\n', stderr: '' });
  });
});

describe('shell executor: process trees and metrics', () => {
  it('kills the whole tree, grandchildren included, when the signal fires', async () => {
    const pidFile = join(workdir, 'pids.txt');
    const handler = createShellHandler([
      'sh',
      '-c',
      `sleep 100 & echo $! > ${pidFile}; sleep 100 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; wait`,
    ]);
    const controller = new AbortController();
    const running = Promise.resolve(handler(taskInput(), context(controller.signal).ctx));
    const pids = await waitFor('the command to write its three pids', async () => {
      const lines = (await readFile(pidFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      return lines.length === 3 ? lines.map(Number) : null;
    });
    for (const pid of pids) expect(await notRunning(pid)).toBe(false);
    controller.abort(new Error('timeout of 5000 ms passed'));
    await expect(running).rejects.toThrow(/stopped by SIGTERM because the task was aborted/);
    for (const pid of pids) expect(await notRunning(pid)).toBe(true);
  });

  it('kills a tree that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const ready = join(workdir, 'trap-ready');
    const handler = createShellHandler(
      ['sh', '-c', `trap '' TERM; touch ${ready}; while :; do sleep 1; done`],
      { killGraceMs: 300 },
    );
    const controller = new AbortController();
    const running = Promise.resolve(handler(taskInput(), context(controller.signal).ctx));
    await waitFor('sh to install its trap', () => existsSync(ready));
    controller.abort(new Error('cancelled'));
    const error = (await running.catch((e: unknown) => e)) as ShellCommandError;
    expect(error).toBeInstanceOf(ShellCommandError);
    expect(error.signal).toBe('SIGKILL');
  });

  it('stops background children a command left behind when it exits', async () => {
    const handler = createShellHandler(['sh', '-c', 'sleep 100 & echo $!']);
    const result = (await handler(taskInput(), context().ctx)) as ShellResult;
    expect(await notRunning(Number(result.output))).toBe(true);
  });

  it('records CPU time and peak RSS of a CPU-burning command', async () => {
    const burn =
      'let x = 0; const end = Date.now() + 600; while (Date.now() < end) x += Math.sqrt(x + 1);';
    const handler = createShellHandler(['sh', '-c', `node -e '${burn}' && echo ok`]);
    const { ctx, metrics } = context();
    await handler(taskInput(), ctx);
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.cpuMs).toBeGreaterThan(0);
    expect(metrics[0]!.peakRssBytes).toBeGreaterThan(1024 * 1024);
  });
});
