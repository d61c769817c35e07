/**
 * The agentq command as a user runs it: a real child process (`node dist/cli/bin.js`), a temp
 * SQLite file and a unique prefix on the test Redis.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'bin.js');
// The bound: a command against a dead Redis must give up within 5 s, not hang.
const GIVE_UP_MS = 5000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  /** True when the process had to be killed at the bound. */
  killed: boolean;
}

function agentq(args: string[], boundMs = 30000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, boundMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

describe('agentq CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-cli-'));
  const common = [
    '--redis',
    REDIS_URL,
    '--db',
    `sqlite:${join(dir, 'a.db')}`,
    '--prefix',
    uniquePrefix('cli'),
  ];

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says it cannot connect to Redis, with the fix, and exits non-zero within 5 s', async () => {
    const port = await freePort();
    const result = await agentq(['status', '--redis', `redis://127.0.0.1:${port}`], GIVE_UP_MS);
    expect(result.killed).toBe(false);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringContaining(`Cannot connect to Redis at 127.0.0.1:${port}`),
    ]);
    expect(result.stderr).toContain('REDIS_URL');
    expect(result.stdout).toBe('');
  });

  it('says it cannot connect to the database, with the fix, within 5 s', async () => {
    const port = await freePort();
    const db = `postgres://postgres@127.0.0.1:${port}/test`;
    const result = await agentq(['status', '--redis', REDIS_URL, '--db', db], GIVE_UP_MS);
    expect(result.killed).toBe(false);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot connect to the database at ${db}`);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 with one line on bad input, without a stack trace', async () => {
    const bad = await agentq(['pending', '--limit', 'many', ...common]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("agentq: limit: 'many' must be a whole number above 0\n");

    const badUrl = await agentq(['status', '--redis', 'http://nope']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr.trim().split('\n')).toHaveLength(1);
    expect(badUrl.stderr).toContain('REDIS_URL');

    const unknown = await agentq(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('prints status --json as one parseable document', async () => {
    const result = await agentq(['status', '--json', ...common]);
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as { totals: { all: number }; agents: unknown[] };
    expect(status.totals.all).toBe(0);
    expect(status.agents).toEqual([]);
  });

  it('writes no colour codes when stdout is not a TTY', async () => {
    const result = await agentq(['status', ...common]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('agentq status at');
    expect(result.stdout).not.toContain('\x1b[');
  });

  it('exits 1 naming an unknown task', async () => {
    const result = await agentq(['task', 'show', 'g-0.none', ...common]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('agentq: task g-0.none not found\n');
  });

  it('runs the store migrations', async () => {
    const result = await agentq(['migrate', '--json', '--db', `sqlite:${join(dir, 'm.db')}`]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ backend: 'sqlite', migrated: true });
  });

  it('reads the event log as one JSON document', async () => {
    const result = await agentq(['events', '--json', '--after', '0', ...common]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ events: [] });
  });
});
