/**
 * `agentq plan FILE --wait` and `task create|cancel` as child processes, against a real agent
 * (AutonomousAgent in this process) on the test Redis with a unique prefix and a temp SQLite file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { TaskRegistry } from '../../src/entities/task-registry';
import { AutonomousAgent } from '../../src/processors/autonomous-agent';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { REDIS_URL, redisConfig, uniquePrefix } from '../helpers/servers';
import { runAgentq as agentq } from '../helpers/run-cli';

// Each test spawns the CLI and waits for a goal to run end to end.
jest.setTimeout(60000);

describe('agentq plan --wait and task commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-cli-goal-'));
  const prefix = uniquePrefix('cligoal');
  const db = `sqlite:${join(dir, 'a.db')}`;
  const common = ['--redis', REDIS_URL, '--db', db, '--prefix', prefix];
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'a.db') });
  const redis = new RedisCoordinator({ redis: redisConfig(), prefix });
  const agent = new AutonomousAgent({
    agentId: 'cli-test-agent',
    capabilities: ['build', 'boom'],
    taskRegistry: registry,
    redisCoordinator: redis,
    handlers: {
      build: async (task) => ({ built: task.key }),
      boom: async () => {
        throw new UnrecoverableError('boom');
      },
    },
    graceMs: 1000,
  });

  beforeAll(() => agent.start());

  afterAll(async () => {
    await agent.close();
    await redis.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function planFile(name: string, plan: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(plan));
    return path;
  }

  it('exits 0 when the goal is DONE', async () => {
    const file = planFile('ok.json', {
      goal: 'Build twice',
      tasks: [
        { key: 'a', title: 'A', type: 'build' },
        { key: 'b', title: 'B', type: 'build', dependsOn: ['a'] },
      ],
    });
    const result = await agentq(['plan', file, '--wait', '--json', ...common]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: 'DONE', created: true });
  });

  it('exits 1 when the goal FAILED', async () => {
    const file = planFile('fail.json', {
      goal: 'Explode',
      tasks: [{ key: 'x', title: 'X', type: 'boom', attempts: 1 }],
    });
    const result = await agentq(['plan', file, '--wait', '--json', ...common]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: 'FAILED' });
  });

  it('refuses a plan file that is not JSON with exit 2 and one line', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{ nope');
    const result = await agentq(['plan', path, ...common]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('creates a task and refuses a bad priority or bad data with exit 2', async () => {
    const created = await agentq([
      'task',
      'create',
      '--title',
      'Compile',
      '--type',
      'build',
      '--priority',
      '8',
      '--data',
      '{"n":1}',
      '--json',
      ...common,
    ]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      title: 'Compile',
      type: 'build',
      priority: 8,
    });

    const badPriority = await agentq([
      'task',
      'create',
      '--title',
      'x',
      '--type',
      'build',
      '--priority',
      '0',
      ...common,
    ]);
    expect(badPriority.code).toBe(2);
    expect(badPriority.stderr).toBe("agentq: priority: '0' must be a whole number from 1 to 10\n");
    const badData = await agentq([
      'task',
      'create',
      '--title',
      'x',
      '--type',
      'build',
      '--data',
      '[1]',
      ...common,
    ]);
    expect(badData.code).toBe(2);
    expect(badData.stderr).toBe('agentq: data: must be a JSON object\n');
  });
});
