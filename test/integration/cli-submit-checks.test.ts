/**
 * What `goal` and `plan` check before they submit, as child processes:
 * - a plan on standard input (`agentq plan -`) is read as YAML, or JSON, and a broken one is
 *   refused with exit 2 naming `stdin` (test Redis, unique prefix, temp SQLite);
 * - a Redis that may evict keys (a private redis-server with `maxmemory-policy allkeys-lru`) is
 *   refused as `worker` refuses it: one line, exit 1, nothing written to Redis or SQL, and none
 *   of BullMQ's own eviction warnings.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { TaskRegistry } from '../../src/entities/task-registry';
import { PrivateRedis } from '../helpers/redis-server';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'bin.js');
// Each test spawns the CLI (a few seconds on a shared machine).
jest.setTimeout(60_000);

function agentq(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

const YAML_PLAN = `goal: Read from standard input
key: stdin-yaml
tasks:
  - { key: design, title: Design it, type: design, priority: 8 }
  - key: build
    title: Build it
    type: backend
    dependsOn: [design]
`;

describe('agentq plan - (standard input)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-stdin-'));
  const dbPath = join(dir, 'a.db');
  const common = ['--redis', REDIS_URL, '--db', `sqlite:${dbPath}`, '--prefix', uniquePrefix('in')];

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a YAML plan', async () => {
    const result = await agentq(['plan', '-', '--json', ...common], YAML_PLAN);
    expect(result.code).toBe(0);
    const submitted = JSON.parse(result.stdout) as {
      planner: string;
      tasks: Array<{ key: string; type: string; dependsOn: string[]; priority: number }>;
    };
    expect(submitted.planner).toBe('stdin');
    expect(submitted.tasks.map((t) => [t.key, t.type, t.dependsOn, t.priority])).toEqual([
      ['design', 'design', [], 8],
      ['build', 'backend', ['design'], 5],
    ]);
  });

  it('reads a JSON plan', async () => {
    const plan = { goal: 'JSON on stdin', tasks: [{ key: 'only', title: 'Only', type: 'design' }] };
    const result = await agentq(['plan', '-', '--json', ...common], ` \n${JSON.stringify(plan)}`);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ planner: 'stdin', tasks: [{ key: 'only' }] });
  });

  it('refuses broken YAML with exit 2 and one line naming stdin and the line', async () => {
    const result = await agentq(['plan', '-', ...common], 'goal: x\ntasks:\n  - { key: a\n');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^agentq: stdin: not valid YAML at line \d+: .+\n$/);
  });
});

describe('goal and plan on a Redis that may evict keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-evict-'));
  const dbPath = join(dir, 'a.db');
  let server: PrivateRedis;
  let common: string[];

  beforeAll(async () => {
    server = await PrivateRedis.start(['--maxmemory-policy', 'allkeys-lru']);
    common = ['--redis', server.url, '--db', `sqlite:${dbPath}`, '--prefix', uniquePrefix('ev')];
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusal =
    "agentq: Redis maxmemory-policy is 'allkeys-lru': it may evict queued tasks. Set it to " +
    "'noeviction' (redis-cli CONFIG SET maxmemory-policy noeviction, and maxmemory-policy " +
    'noeviction in redis.conf).\n';

  it.each([
    ['goal', () => ['goal', 'Build user authentication system']],
    [
      'plan',
      () => {
        const file = join(dir, 'plan.json');
        writeFileSync(
          file,
          JSON.stringify({ goal: 'g', tasks: [{ key: 'a', title: 'A', type: 'x' }] }),
        );
        return ['plan', file];
      },
    ],
  ])('%s refuses it in one line, exit 1, writing nothing', async (_name, args) => {
    const result = await agentq([...args(), ...common]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    // One line, ours: not BullMQ's "IMPORTANT! Eviction policy is allkeys-lru" per queue.
    expect(result.stderr).toBe(refusal);

    const client = new Redis(server.url);
    try {
      expect(await client.dbsize()).toBe(0);
    } finally {
      await client.quit();
    }
    const registry = new TaskRegistry({ backend: 'sqlite', path: dbPath });
    try {
      await registry.open();
      expect(await registry.listGoals({ limit: 10 })).toEqual([]);
    } finally {
      await registry.close();
    }
  });
});
