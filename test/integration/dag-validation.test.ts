/**
 * Every validation error of a plan, through the supervisor: an InputError naming the field, and
 * nothing written to Redis or SQL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskRegistry } from '../../src/entities/task-registry';
import { InputError } from '../../src/errors';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { keysMatching } from '../helpers/redis-cluster';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';

const ok = (extra: object = {}) => ({ key: 'a', title: 'A', type: 'dev', ...extra });

describe('plan validation through the supervisor', () => {
  const prefix = uniquePrefix('val');
  const dir = mkdtempSync(join(tmpdir(), 'agentq-val-'));
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const supervisor = new SupervisorAgent(registry, coordinator, {});

  afterAll(async () => {
    await supervisor.close();
    await coordinator.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function nothingWritten(): Promise<void> {
    const keys = await keysMatching(coordinator.client, `{${prefix}}*`);
    expect(keys).toEqual([]);
    expect(await registry.listGoals()).toEqual([]);
    expect(await registry.findTasks({})).toEqual([]);
  }

  const big = 'x'.repeat(1024 * 1024);
  it.each([
    ['a cycle', [ok({ dependsOn: ['b'] }), ok({ key: 'b', dependsOn: ['a'] })], /cycle: a → b → a/],
    [
      'an unknown dependsOn',
      [ok({ dependsOn: ['zz'] })],
      /tasks\[0\]\.dependsOn\[0\]: unknown task key 'zz'/,
    ],
    ['a duplicate key', [ok(), ok()], /tasks\[1\]\.key: duplicate key 'a'/],
    ['an empty plan', [], /tasks: the plan has no tasks/],
    ['a missing title', [{ key: 'a', type: 'dev' }], /tasks\[0\]\.title: is required/],
    ['a missing type', [{ key: 'a', title: 'A' }], /tasks\[0\]\.type: is required/],
    ['priority out of range', [ok({ priority: 12 })], /tasks\[0\]\.priority: must be from 1 to 10/],
    ['attempts out of range', [ok({ attempts: 0 })], /tasks\[0\]\.attempts: must be from 1 to 100/],
    ['data over 1 MiB', [ok({ data: { big } })], /tasks\[0\]\.data: .*at most 1 MiB/],
    [
      'more than 100,000 tasks',
      Array.from({ length: 100_001 }, (_, i) => ok({ key: `t${i}` })),
      /at most 100000/,
    ],
  ])('refuses %s and writes nothing', async (_name, tasks, message) => {
    const submitting = supervisor.submitPlan({ goal: 'g', tasks } as never);
    await expect(submitting).rejects.toThrow(InputError);
    await expect(submitting).rejects.toThrow(message);
    await nothingWritten();
  });

  it('refuses an unreadable file, naming it', async () => {
    const file = join(dir, 'missing.json');
    await expect(supervisor.submitPlan(file)).rejects.toThrow(
      `${file}: cannot read the plan file (ENOENT)`,
    );
    await nothingWritten();
  });

  it('refuses a file that is not JSON, with the line', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{\n  "goal": "g",\n  "tasks": [,]\n}\n');
    await expect(supervisor.submitPlan(file)).rejects.toThrow(
      /bad\.json: not valid JSON at line 3/,
    );
    await nothingWritten();
  });

  it('refuses a YAML file with a syntax error, with the line', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'goal: g\ntasks:\n  - key: a\n   title: [unclosed\n');
    await expect(supervisor.submitPlan(file)).rejects.toThrow(
      /bad\.yaml: not valid YAML at line \d/,
    );
    await nothingWritten();
  });
});
