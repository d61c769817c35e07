/**
 * The CLI answers at once: `--version` and `--help` load no command at all, and `task show` /
 * `task cancel` load neither TypeORM (a migrated SQLite file opens directly) nor Express nor
 * OpenTelemetry. Each command runs as a user runs it (the built CLI in a child process), with a
 * `--require` hook that lists the packages it loaded.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const HOOK = join(ROOT, 'test', 'fixtures', 'loaded-packages.cjs');
/** What a one-shot command must not pay for. */
const HEAVY = /^(typeorm|express|@opentelemetry\/.*|@bull-board\/.*|pg|prom-client|yaml|zod)$/;

describe('agentq start-up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-startup-'));
  const prefix = uniquePrefix('startup');
  const common = ['--redis', REDIS_URL, '--db', `sqlite:${join(dir, 'agentq.db')}`];
  common.push('--prefix', prefix);
  let run = 0;

  /** Runs the CLI; its output and the packages it loaded. */
  async function agentq(args: string[]) {
    const out = join(dir, `loaded-${run++}.json`);
    const { stdout, stderr } = await exec(process.execPath, ['--require', HOOK, BIN, ...args], {
      cwd: dir,
      env: { ...process.env, LOADED_PACKAGES_OUT: out },
    });
    const packages = JSON.parse(readFileSync(out, 'utf8')) as string[];
    return { stdout, stderr, packages };
  }

  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the package version with --version, loading commander only', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const { stdout, packages } = await agentq([flag]);
      expect(stdout).toBe(`${version}\n`);
      expect(packages).toEqual(['commander']);
    }
  });

  it('lists every command with --help, loading commander only', async () => {
    const { stdout, packages } = await agentq(['--help']);
    for (const name of ['status', 'task', 'goal', 'plan', 'serve', 'worker', 'dlq', 'demo'])
      expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    expect(stdout).toContain('goal [options] [text]');
    expect(packages).toEqual(['commander']);
  });

  it('shows and cancels a task without TypeORM, Express, OpenTelemetry or the planner', async () => {
    // `task create` opens the new file through TypeORM, which runs the migrations.
    const created = await agentq([
      ...common,
      'task',
      'create',
      '--title',
      'Wait',
      '--type',
      'nobody',
      '--json',
    ]);
    const { id } = JSON.parse(created.stdout) as { id: string };
    expect(created.packages).toContain('typeorm');

    const shown = await agentq([...common, 'task', 'show', id, '--json']);
    expect((JSON.parse(shown.stdout) as { task: { id: string; state: string } }).task).toEqual(
      expect.objectContaining({ id, state: 'PENDING' }),
    );
    expect(shown.packages).toEqual(expect.arrayContaining(['bullmq', 'better-sqlite3']));
    expect(shown.packages.filter((p) => HEAVY.test(p))).toEqual([]);

    const cancelled = await agentq([...common, 'task', 'cancel', id]);
    expect(cancelled.stdout).toBe(`Cancelling task ${id}.\n`);
    expect(cancelled.packages.filter((p) => HEAVY.test(p))).toEqual([]);
  });
});
