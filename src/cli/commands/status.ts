/**
 * `agentq status`: counts by state and capability, live agents, what awaits approval and since
 * when, tasks nobody will claim and why, recent failures. `--json` prints the whole status; `--watch` redraws it every second.
 */
import type { Command } from 'commander';
import { InterfaceAgent } from '../../interface/interface-agent';
import { awaitingLine } from '../../interface/interface-report';
import type { SystemStatus } from '../../interface/interface-status';
import { TASK_STATES } from '../../entities/task-state';
import { withContext } from '../context';
import { renderLimits } from './limits';
import { onInterrupt } from '../interrupt';
import { paintState, type Output } from '../output';
import { watchRedisHealth } from '../redis-health';
import { formatUsage } from '../budget-format';

const CLEAR_SCREEN = '\x1b[2J\x1b[H';

export function register(program: Command): void {
  program
    .command('status')
    .description('tasks by state and capability, agents, stuck tasks and why, recent failures')
    .option('--watch', 'redraw every second until Ctrl-C')
    .action((options: { watch?: boolean }, command: Command) =>
      withContext(
        command,
        { role: options.watch ? 'worker' : 'command', readsSql: true },
        async (ctx) => {
          const iface = new InterfaceAgent(ctx.registry, ctx.coordinator, { mirror: false });
          if (!options.watch) return renderStatus(await iface.getSystemStatus(), ctx.out);
          const health = watchRedisHealth(ctx.coordinator, { write: ctx.out.warn });
          const interrupt = onInterrupt();
          try {
            while (!interrupt.stopped) {
              const status = await iface.getSystemStatus().catch(() => null);
              if (status) {
                if (!ctx.out.json) ctx.out.print(CLEAR_SCREEN.trimEnd());
                renderStatus(status, ctx.out);
              }
              await interrupt.sleep(1000);
            }
          } finally {
            interrupt.dispose();
            health.stop();
          }
        },
      ),
    );
}

export function renderStatus(status: SystemStatus, out: Output): void {
  if (out.json) return out.printJson(status);
  const { color } = out;
  const t = status.totals;
  out.print(color.bold(`agentq status at ${status.generatedAt.toISOString()}`));
  out.print(
    `Tasks: ${t.all} — ` +
      TASK_STATES.map((s) => `${paintState(color, s)} ${t[s] ?? 0}`).join('  ') +
      `   Goals active: ${status.goals.active}` +
      (status.goals.paused > 0 ? color.yellow(`   paused: ${status.goals.paused}`) : '') +
      `   Agents live: ${status.agents.length}`,
  );
  const depth = new Map(status.queues.map((q) => [q.name, q]));
  const names = [...new Set([...Object.keys(status.byType), ...depth.keys()])].sort();
  if (names.length > 0) {
    out.table(
      ['capability', ...TASK_STATES, 'queued', 'agents'],
      names.map((name) => [
        name + (depth.get(name)?.paused ? color.yellow(' (paused)') : ''),
        ...TASK_STATES.map((s) => status.byType[name]?.[s] ?? 0),
        depth.get(name)?.waiting ?? '-',
        status.agents.filter((a) => a.capabilities.includes(name)).length,
      ]),
      TASK_STATES.map((_, i) => i + 1).concat([TASK_STATES.length + 1, TASK_STATES.length + 2]),
    );
  } else {
    out.print('No tasks yet. Submit a goal with `agentq goal "<text>"`.');
  }
  if (status.limits.length > 0) {
    out.print(color.bold('Limits:'));
    renderLimits(status.limits, out);
  }
  if (status.budgets.length > 0) {
    out.print('Goal budgets:');
    out.table(
      ['goal', 'state', 'used', 'held'],
      status.budgets.map((b) => [
        b.goalId,
        paintState(color, b.state),
        formatUsage(b.usage, b.budget),
        b.held,
      ]),
      [3],
    );
  }
  if (status.awaitingApproval.count > 0) {
    out.print(color.yellow(`Awaiting approval: ${status.awaitingApproval.count}`));
    for (const a of status.awaitingApproval.tasks) {
      out.print(`  ${awaitingLine(a, status.generatedAt)}`);
    }
  }
  if (status.stuck.length > 0) {
    out.print(color.yellow('Not being claimed:'));
    for (const s of status.stuck) out.print(`  ${s.taskId} [${s.type}] ${s.message}`);
  }
  if (status.recentFailures.length > 0) {
    out.print(color.red('Recent failures:'));
    for (const f of status.recentFailures) {
      out.print(`  ${f.taskId} [${f.type}] ${f.error?.message ?? 'unknown error'}`);
    }
  }
}
