/**
 * Limits the CLI applies before it does any work: a plan file over the size cap is refused
 * before it is parsed (a 100 MB YAML plan ran the CLI out of heap), and `serve` on a non-loopback
 * host without a token is refused before the store, the mirror or the server start.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_PLAN_FILE_BYTES, MAX_YAML_PLAN_FILE_BYTES } from '../../src/queues/plan-loader';
import { spawnAgentq, type AgentqProcess } from '../helpers/serve-process';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

// Child processes (the built CLI) take a while to start on a shared machine.
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

  it.each([
    ['YAML', 'huge.yaml', MAX_YAML_PLAN_FILE_BYTES, 'the YAML plan file is larger than 4 MiB'],
    ['JSON', 'huge.json', MAX_PLAN_FILE_BYTES, 'the plan file is larger than 32 MiB'],
  ])('refuses a %s plan file over its cap before parsing it', async (_kind, name, cap, message) => {
    const file = join(dir, name);
    const task = '{ "key": "t", "title": "T", "type": "dev" },\n';
    const tasks = task.repeat(Math.ceil(cap / task.length) + 1);
    // Valid JSON and YAML alike (a YAML flow sequence), so only the size is wrong.
    writeFileSync(
      file,
      `{ "goal": "huge", "tasks": [\n${tasks}{ "key": "u", "title": "U", "type": "dev" }] }`,
    );
    const result = await run([...common, 'plan', file]);
    expect(result.code).toBe(2);
    expect(result.lines.join('\n')).toContain(`${file}: ${message}`);
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
