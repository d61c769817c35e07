/**
 * A diamond (a → b, a → c, b + c → d) on two agent processes; the process running branch `b` is
 * killed -9 mid-task. "Nothing lost" means: the other agent finishes `b` after its lock expires,
 * the join `d` runs exactly once and receives both branches' results, and SQL (through the
 * mirror) records every task DONE with a single terminal transition each.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAgentSystem, type AgentSystem } from '../../src/agent-system';
import { spawnAgent, type AgentChild } from '../helpers/agent-spawn';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

// Two agent processes through tsx, and a killed task waits out its 3 s lock.
jest.setTimeout(90_000);

const HANDLERS = resolve(__dirname, '../fixtures/handlers/behaviours.cjs');

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

describe('a diamond whose branch agent is killed -9 mid-task', () => {
  const prefix = uniquePrefix('diamond');
  const dir = mkdtempSync(join(tmpdir(), 'agentq-diamond-'));
  const agents: AgentChild[] = [];
  let system: AgentSystem;

  beforeAll(async () => {
    system = await createAgentSystem({
      config: { REDIS_URL, AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`, AGENTQ_PREFIX: prefix },
    });
    for (const agentId of ['left', 'right']) {
      agents.push(
        await spawnAgent({
          url: REDIS_URL,
          prefix,
          agentId,
          capabilities: ['work'],
          handlersFile: HANDLERS,
          lockDurationMs: 3000,
          stalledIntervalMs: 1000,
        }),
      );
    }
  });

  afterAll(async () => {
    for (const agent of agents) {
      if (agent.child.exitCode === null && agent.child.signalCode === null) {
        agent.child.kill('SIGTERM');
      }
      await agent.exited;
    }
    await system?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finishes the killed branch on the other agent and runs the join once with both results', async () => {
    const startedFile = join(dir, 'started');
    const doneFile = join(dir, 'done');
    const files = { startedFile, doneFile };
    const { goalId } = await system.supervisor.submitPlan({
      goal: 'diamond through a crash',
      tasks: [
        { key: 'a', title: 'A', type: 'work', data: files },
        { key: 'b', title: 'B', type: 'work', dependsOn: ['a'], data: { ...files, ms: 2500 } },
        { key: 'c', title: 'C', type: 'work', dependsOn: ['a'], data: files },
        { key: 'd', title: 'D', type: 'work', dependsOn: ['b', 'c'], data: files },
      ],
    });
    const bId = `${goalId}.b`;
    const dId = `${goalId}.d`;

    const firstRun = await waitFor('b to start', () =>
      lines(startedFile).find((l) => l.startsWith(`${bId} `)),
    );
    const [, victimId] = firstRun.split(' ');
    const victim = agents.find((a) => agentIdOf(a) === victimId)!;
    victim.child.kill('SIGKILL');
    await victim.exited;

    const tasks = await waitFor(
      'every task DONE in SQL',
      async () => {
        const all = await system.registry.findTasks({ goalId, limit: 10 });
        return all.length === 4 && all.every((t) => t.state === 'DONE') ? all : null;
      },
      { timeoutMs: 60_000 },
    );

    const bRuns = lines(startedFile).filter((l) => l.startsWith(`${bId} `));
    expect(bRuns.length).toBe(2);
    expect(bRuns[1]!.split(' ')[1]).not.toBe(victimId);
    expect(lines(doneFile).filter((l) => l.startsWith(`${bId} `))).toHaveLength(1);
    expect(lines(startedFile).filter((l) => l.startsWith(`${dId} `))).toHaveLength(1);
    expect(lines(doneFile).filter((l) => l.startsWith(`${dId} `))).toHaveLength(1);

    const d = tasks.find((t) => t.key === 'd')!;
    const deps = (d.result as { deps: Record<string, { ok: boolean; by: string }> }).deps;
    expect(Object.keys(deps).sort()).toEqual(['b', 'c']);
    expect(deps.b!.ok && deps.c!.ok).toBe(true);
    expect(deps.b!.by).not.toBe(victimId);

    const events = (await system.registry.eventsAfter(0, 1000)).filter((e) => e.goalId === goalId);
    for (const task of tasks) {
      const done = events.filter((e) => e.taskId === task.id && e.toState === 'DONE');
      expect([task.key, done.length]).toEqual([task.key, 1]);
    }
  });
});

/** The agent id a spawned agent was started with (its config is the last argv entry). */
function agentIdOf(agent: AgentChild): string {
  const config = JSON.parse(agent.child.spawnargs.at(-1) ?? '{}') as { agentId?: string };
  return config.agentId ?? '';
}
