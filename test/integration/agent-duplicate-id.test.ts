/**
 * One agent id, one process. A second `agentq worker --id X` while the first is alive is refused
 * with one clear line and exit 2, and `agentq agents` keeps showing the first; once the first is
 * dead (kill -9 on this host: its pid is gone) a new worker with that id starts at once. For a
 * holder on another host "alive" is its heartbeat age: within three heartbeat intervals.
 */
import { join } from 'node:path';
import { DuplicateAgentError } from '../../src/queues/agent-directory';
import { RedisCoordinator } from '../../src/queues/redis-coordinator';
import { spawnAgentq, type AgentqProcess } from '../helpers/serve-process';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

/** Generous: an agentq process on a shared 2-core machine can take a while to start. */
const START_MS = 40000;
const HANDLERS = join(__dirname, '..', 'fixtures', 'handlers', 'cjs-exports.cjs');

describe('two agents with the same id', () => {
  const prefix = uniquePrefix('dup');
  const coordinator = new RedisCoordinator({ url: REDIS_URL, prefix, role: 'command' });
  const started: AgentqProcess[] = [];

  const agentq = (args: string[]) => {
    const p = spawnAgentq(['--redis', REDIS_URL, '--prefix', prefix, ...args]);
    started.push(p);
    return p;
  };
  const worker = (id: string) =>
    agentq(['worker', '--id', id, '--capabilities', 'echo', '--handlers', HANDLERS]);
  const serving = (p: AgentqProcess, id: string) =>
    waitFor(
      `worker ${id} (pid ${p.child.pid}) to serve`,
      () => p.lines.some((l) => l.includes(`agentq worker ${id}: serves echo`)),
      { timeoutMs: START_MS },
    );
  /** `agentq agents --json`, as a user runs it. */
  const listed = async (): Promise<Array<{ id: string; pid: number }>> => {
    const p = agentq(['agents', '--json']);
    await p.exited;
    expect(p.child.exitCode).toBe(0);
    return (JSON.parse(p.lines.join('\n')) as { agents: Array<{ id: string; pid: number }> })
      .agents;
  };

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    const keys = await coordinator.client.keys(`{${prefix}}*`);
    if (keys.length > 0) await coordinator.client.del(...keys);
    await coordinator.close();
  });

  it('refuses a second worker while the first is alive, with one line and exit 2', async () => {
    const first = worker('dup-1');
    await serving(first, 'dup-1');

    const second = worker('dup-1');
    await waitFor(
      'the second worker to exit (or to serve)',
      () => second.child.exitCode !== null || second.lines.some((l) => l.includes('serves')),
      { timeoutMs: START_MS },
    );
    expect(second.child.exitCode).toBe(2);
    const refusal = second.lines.filter((l) => l.startsWith('agentq:'));
    expect(refusal).toEqual([
      expect.stringMatching(
        new RegExp(
          `^agentq: agentId: 'dup-1' is already taken by a live agent \\(pid ${first.child.pid} ` +
            'on .+, last heartbeat \\d+\\.\\d s ago\\); stop that one first or give this one ' +
            'another id \\(--id\\)$',
        ),
      ),
    ]);
    expect(second.lines.some((l) => l.includes('serves'))).toBe(false);

    // One dup-1, the first one (the refused one never wrote an entry).
    expect((await listed()).filter((a) => a.id === 'dup-1')).toEqual([
      expect.objectContaining({ pid: first.child.pid }),
    ]);
  });

  it('starts a worker whose predecessor with that id was killed -9', async () => {
    const first = worker('dup-2');
    await serving(first, 'dup-2');
    await first.killHard();

    const next = worker('dup-2');
    await serving(next, 'dup-2');
    expect((await listed()).filter((a) => a.id === 'dup-2')).toEqual([
      expect.objectContaining({ pid: next.child.pid }),
    ]);
  });

  it('counts a holder on another host alive while its heartbeat is within three intervals', async () => {
    const entry = (id: string, ageMs: number, instance: string) => ({
      id,
      capabilities: ['echo'],
      host: 'another-host',
      pid: 4242,
      startedAt: new Date(Date.now() - 60_000),
      lastSeenAt: new Date(Date.now() - ageMs),
      running: [],
      concurrency: 1,
      breakers: {},
      heartbeatMs: 1000,
      instance,
    });
    await coordinator.heartbeatAgent(entry('far-1', 2500, 'theirs'));
    await expect(coordinator.claimAgent(entry('far-1', 0, 'ours'))).rejects.toBeInstanceOf(
      DuplicateAgentError,
    );
    expect((await coordinator.getAllAgents()).find((a) => a.id === 'far-1')?.pid).toBe(4242);

    await coordinator.heartbeatAgent(entry('far-2', 3500, 'theirs'));
    await coordinator.claimAgent({ ...entry('far-2', 0, 'ours'), pid: process.pid });
    expect((await coordinator.getAllAgents()).find((a) => a.id === 'far-2')?.pid).toBe(process.pid);
    // The one that lost the id can no longer overwrite it with its heartbeats.
    expect(await coordinator.heartbeatAgent(entry('far-2', 0, 'theirs'))).toBe(false);
    expect((await coordinator.getAllAgents()).find((a) => a.id === 'far-2')?.pid).toBe(process.pid);
  });
});
