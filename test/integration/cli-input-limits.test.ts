/**
 * Limits the CLI applies before it does any work: a plan file over the size cap is refused
 * before it is parsed (a 100 MB YAML plan ran the CLI out of heap), and `serve` on a non-loopback
 * host without a token is refused before the store, the mirror or the server start.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_PLAN_FILE_BYTES } from '../../src/queues/plan-loader';
import { spawnAgentq, type AgentqProcess } from '../helpers/serve-process';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

// Child processes start through tsx (a few seconds each on a shared machine).
jest.setTimeout(60_000);

describe('CLI input limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-cli-limits-'));
  const db = join(dir, 'agentq.db');
  const common = ['--redis', REDIS_URL, '--db', `sqlite:${db}`, '--prefix', uniquePrefix('lim')];
  const children: AgentqProcess[] = [];

  afterAll(async () => {
    for (const child of children) await child.killHard();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(args: string[], env: Record<string, string> = {}) {
    const child = spawnAgentq(args, env);
    children.push(child);
    await child.exited;
    return { code: child.child.exitCode, lines: child.lines.filter((l) => l.trim() !== '') };
  }

  it('refuses a plan file over the cap before parsing it, naming the file and the limit', async () => {
    const file = join(dir, 'huge.yaml');
    const task = '  - { key: t, title: T, type: dev }\n';
    writeFileSync(
      file,
      `goal: huge\ntasks:\n${task.repeat(Math.ceil(MAX_PLAN_FILE_BYTES / task.length) + 1)}`,
    );
    const result = await run([...common, 'plan', file]);
    expect(result.code).toBe(2);
    expect(result.lines.join('\n')).toContain(`${file}: the plan file is larger than 32 MiB`);
  });

  it('refuses serve on 0.0.0.0 without a token before starting anything', async () => {
    const serveDb = join(dir, 'serve.db');
    const result = await run([
      ...common.slice(0, 2),
      '--db',
      `sqlite:${serveDb}`,
      ...common.slice(4),
      'serve',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
    ]);
    expect(result.code).toBe(2);
    expect(result.lines).toEqual([
      expect.stringContaining('refusing to listen on 0.0.0.0 without AGENTQ_TOKEN'),
    ]);
    expect(result.lines.join('\n')).not.toMatch(/TypeError|mirror/);
    // Not even the store was opened.
    expect(existsSync(serveDb)).toBe(false);
  });
});
