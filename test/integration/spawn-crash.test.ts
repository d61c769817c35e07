/**
 * A spawning agent killed with SIGKILL between its spawn and the spawning task's end (issue 15
 * point 5), with real agent processes and the mirror on SQLite: killed while its handler still
 * ran after spawning (the task's lock expires, another agent runs the handler again, its spawn is
 * a repeat), and killed while the task waited for what it spawned (another agent finishes it
 * without running the handler). Spawned tasks run exactly once, the spawning tasks end once, and
 * their dependents see every result.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TaskSpec } from '../../src/entities/task-model';
import { TaskRegistry } from '../../src/entities/task-registry';
import { startMirror, type MirrorHandle } from '../../src/mirror/mirror';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { SupervisorAgent } from '../../src/queues/supervisor-agent';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// Agent processes start through tsx, and a killed agent's lock must expire: tens of seconds.
jest.setTimeout(120000);

describe('a spawning agent killed with SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentq-spawn-crash-'));
  const prefix = uniquePrefix('spawncrash');
  const registry = new TaskRegistry({ backend: 'sqlite', path: join(dir, 'agentq.db') });
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix });
  const supervisor = new SupervisorAgent(registry, coordinator, {});
  const handlersFile = resolve(__dirname, '../fixtures/handlers/spawning.cjs');
  const log = join(dir, 'runs.log');
  const marker = join(dir, 'gen-hung');
  const release = join(dir, 'release');
  const agents: AgentChild[] = [];
  let mirror: MirrorHandle;

  const start = async (agentId: string, capabilities: string[]) => {
    const agent = await spawnAgent({
      url: REDIS_URL,
      prefix,
      agentId,
      capabilities,
      handlersFile,
      concurrency: 4,
      // A killed agent's task is free again within a few seconds.
      lockDurationMs: 2000,
      stalledIntervalMs: 1000,
    });
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    mirror = startMirror({ store: registry, coordinator, blockMs: 50 });
  });

  afterAll(async () => {
    for (const a of agents) if (a.child.exitCode === null) a.child.kill('SIGTERM');
    await Promise.all(agents.map((a) => a.exited));
    await mirror.close();
    await coordinator.close();
    await registry.close();
  });

  const t = (key: string, type: string, extra: Partial<TaskSpec> = {}): TaskSpec => ({
    key,
    title: `task ${key}`,
    type,
    ...extra,
  });

  it('spawns nothing twice and ends each spawning task once', async () => {
    await start('spawn-worker', ['work']);
    const first = await start('spawn-gen-1', ['gen']);
    const { goalId } = await supervisor.submitPlan({
      goal: 'crash between spawn and end',
      tasks: [
        // Hangs after spawning: killed while its handler runs.
        t('hung', 'gen', {
          data: {
            log,
            marker,
            spawn: [
              t('h1', 'work', { data: { log } }),
              t('h2', 'work', { dependsOn: ['h1'], data: { log } }),
            ] as never,
          },
        }),
        // Returns at once: killed while it waits for what it spawned (w1 waits for `release`).
        t('waiter', 'gen', {
          data: { log, spawn: [t('w1', 'work', { data: { log, release } })] as never },
        }),
        t('after', 'work', { dependsOn: ['hung', 'waiter'], data: { log } }),
      ],
    });
    const waiterJob = `${goalId}.waiter`;
    await waitFor('the hung handler and the waiting spawner', async () => {
      const state = await coordinator.queue('gen').getJobState(waiterJob);
      return existsSync(marker) && state === 'waiting-children' ? true : null;
    });
    first.child.kill('SIGKILL');
    await first.exited;
    writeFileSync(release, 'go');
    await start('spawn-gen-2', ['gen']);

    const goal = await waitFor(
      'the goal DONE in SQL',
      async () => {
        const g = await supervisor.getGoal(goalId);
        return g.goal.state === 'DONE' ? g : null;
      },
      { timeoutMs: 90000 },
    );
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const count = (line: string) => lines.filter((l) => l === line).length;
    // The hung handler ran again on the second agent; the waiting one never ran again.
    expect(lines.filter((l) => l.startsWith('gen hung '))).toEqual([
      'gen hung spawn-gen-1',
      'gen hung spawn-gen-2',
    ]);
    expect(lines.filter((l) => l.startsWith('gen waiter '))).toEqual(['gen waiter spawn-gen-1']);
    for (const key of ['h1', 'h2', 'w1', 'after']) expect(count(`work ${key}`)).toBe(1);
    expect(goal.tasks.map((x) => x.key).sort()).toEqual([
      'after',
      'h1',
      'h2',
      'hung',
      'w1',
      'waiter',
    ]);
    expect(goal.tasks.filter((x) => x.state !== 'DONE').map((x) => [x.key, x.state])).toEqual([]);
    const after = goal.tasks.find((x) => x.key === 'after')!;
    expect(after.result).toEqual({
      from: 'after',
      saw: ['h1', 'h2', 'hung', 'w1', 'waiter'],
    });
    expect(goal.tasks.find((x) => x.key === 'hung')!.result).toEqual({ spawned: ['h1', 'h2'] });
  });
});
