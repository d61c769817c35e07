/**
 * Task metrics in SQL after a run through the mirror: every task gets its timestamps, wait and
 * run time and attempts; sandboxed and shell tasks their CPU time and peak RSS; qualityScore from
 * `ctx.progress({ qualityScore })`, or from the result (a shell command's last JSON line).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAgentSystem, type AgentSystem } from '../../src/agent-system';
import type { TaskRecord } from '../../src/entities/task-model';
import { loadHandlerModule } from '../../src/processors/handler-module';
import { createShellHandler } from '../../src/processors/shell-executor';
import { REDIS_URL, uniquePrefix } from '../helpers/servers';
import { waitFor } from '../helpers/wait-for';

const HANDLERS = resolve(__dirname, '..', 'fixtures', 'handlers', 'behaviours.cjs');
const dir = mkdtempSync(join(tmpdir(), 'agentq-metrics-'));
const SHELL_SCRIPT = join(dir, 'burn.cjs');
writeFileSync(
  SHELL_SCRIPT,
  `const until = Date.now() + 300; let x = 0;
   while (Date.now() < until) x += Math.sqrt(x + 1);
   const ballast = Buffer.alloc(32 * 1024 * 1024, 1);
   console.log('working');
   console.log(JSON.stringify({ qualityScore: 0.9, bytes: ballast.length }));\n`,
);
let system: AgentSystem;

describe('task metrics in SQL', () => {
  beforeAll(async () => {
    system = await createAgentSystem({
      config: {
        REDIS_URL,
        AGENTQ_PREFIX: uniquePrefix('metrics'),
        AGENTQ_DB: `sqlite:${join(dir, 'agentq.db')}`,
      },
    });
    const handlers = await loadHandlerModule(HANDLERS);
    await system.startAgent({ agentId: 'fn-agent', capabilities: ['work'], handlers });
    await system.startAgent({
      agentId: 'sandbox-agent',
      capabilities: ['burn'],
      sandboxed: { handlersFile: HANDLERS },
    });
    await system.startAgent({
      agentId: 'shell-agent',
      capabilities: ['shell'],
      handlers: { shell: createShellHandler(`${process.execPath} ${SHELL_SCRIPT}`) },
    });
  });

  afterAll(async () => {
    await system.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills timestamps, wait, run time, attempts, CPU, peak RSS and quality', async () => {
    const { goalId, tasks } = await system.supervisor.submitPlan({
      goal: 'Measure',
      tasks: [
        { key: 'w', title: 'in process', type: 'work', data: { ms: 100 } },
        { key: 'b', title: 'sandboxed', type: 'burn', dependsOn: ['w'], data: { ms: 300 } },
        { key: 's', title: 'shell', type: 'shell', dependsOn: ['w'] },
      ],
    });
    // The goal's end and its tasks' come from different streams: wait for both in SQL (a queue
    // the mirror has just discovered is read from its next pass).
    await waitFor('the goal and every task DONE', async () => {
      if ((await system.registry.getGoal(goalId))?.state !== 'DONE') return false;
      const rows = await system.registry.findTasks({ goalId });
      return rows.length === tasks.length && rows.every((t) => t.state === 'DONE');
    });
    const byKey = new Map<string, TaskRecord>();
    for (const t of tasks) byKey.set(t.key, (await system.registry.getTask(t.id))!);

    for (const [key, r] of byKey) {
      process.stdout.write(
        `${key}: wait ${r.waitMs} ms, run ${r.durationMs} ms, cpu ${r.cpuMs} ms, ` +
          `peak RSS ${r.peakRssBytes} B, quality ${r.qualityScore}, attempts ${r.attempt}\n`,
      );
      expect({ key, state: r.state, attempt: r.attempt }).toEqual({
        key,
        state: 'DONE',
        attempt: 1,
      });
      for (const field of ['queuedAt', 'claimedAt', 'startedAt', 'finishedAt'] as const) {
        expect({ key, field, value: r[field] }).toEqual({ key, field, value: expect.any(Date) });
      }
      expect(r.queuedAt!.getTime()).toBeLessThanOrEqual(r.claimedAt!.getTime());
      expect(r.claimedAt!.getTime()).toBeLessThanOrEqual(r.startedAt!.getTime());
      expect(r.startedAt!.getTime()).toBeLessThanOrEqual(r.finishedAt!.getTime());
      expect(r.waitMs).toBeGreaterThanOrEqual(0);
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
    }
    // Dependents waited for their dependency: queued when it finished, so their wait is short,
    // but their run time covers the work they did.
    expect(byKey.get('w')!.durationMs).toBeGreaterThanOrEqual(100);
    expect(byKey.get('b')!.durationMs).toBeGreaterThanOrEqual(300);
    expect(byKey.get('s')!.durationMs).toBeGreaterThanOrEqual(300);

    expect(byKey.get('w')!.qualityScore).toBe(0.75);
    expect(byKey.get('s')!.qualityScore).toBe(0.9);
    for (const key of ['b', 's']) {
      const r = byKey.get(key)!;
      expect({ key, cpuMs: r.cpuMs }).toEqual({ key, cpuMs: expect.any(Number) });
      expect(r.cpuMs).toBeGreaterThan(0);
      expect(r.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024);
    }
    // The shell command's 32 MiB buffer shows in its peak.
    expect(byKey.get('s')!.peakRssBytes).toBeGreaterThan(32 * 1024 * 1024);
  });
});
