/**
 * `formatStatusReport`: the system status as a readable multi-line text — totals, one row per
 * capability, live agents, stuck tasks with the reason, recent failures. Plain text (no colour),
 * so it reads the same in a log, a terminal and a chat.
 */
import { TASK_STATES, type TaskState } from '../entities/task-state';
import type { AwaitingApproval } from '../queues/approvals';
import { formatRate } from '../queues/capability-limits';
import type { CapabilityLimitsView } from '../queues/limits-view';
import type { SystemStatus } from './interface-status';
import { renderTable } from './text-table';

const BOARD_STATES: readonly TaskState[] = TASK_STATES;

export function formatStatusReport(status: SystemStatus): string {
  const lines: string[] = [];
  const t = status.totals;
  lines.push(`agentq status at ${status.generatedAt.toISOString()}`);
  lines.push(`Tasks: ${t.all} total — ${BOARD_STATES.map((s) => `${s} ${t[s] ?? 0}`).join(', ')}`);
  lines.push(`Goals: ${status.goals.active} active, ${status.goals.paused} paused`);
  if (status.budgets.length > 0) {
    lines.push('', 'Goal budgets:');
    lines.push(
      renderTable(
        ['goal', 'state', 'used', 'budget', 'held'],
        status.budgets.map((b) => [
          b.goalId,
          b.state,
          `${b.used === null ? '-' : `${Math.round(b.used * 100)} %`}`,
          budgetText(b.budget),
          b.held,
        ]),
      ),
    );
  }
  lines.push('', 'By capability:', capabilityTable(status));
  lines.push('', `Agents (${status.agents.length} live):`);
  lines.push(
    status.agents.length === 0
      ? '  none — start one with `agentq worker`'
      : renderTable(
          ['agent', 'capabilities', 'running', 'breakers open', 'last seen'],
          status.agents.map((a) => [
            a.id,
            a.capabilities.join(', '),
            `${a.running.length}/${a.concurrency}`,
            openBreakers(a.breakers).join(', ') || '-',
            a.lastSeenAt.toISOString(),
          ]),
        ),
  );
  if (status.limits.length > 0) {
    lines.push('', 'Limits:');
    for (const l of status.limits) lines.push(`  ${l.capability}: ${describeLimits(l)}`);
  }
  if (status.awaitingApproval.count > 0) {
    lines.push('', `Awaiting approval: ${status.awaitingApproval.count}`);
    for (const a of status.awaitingApproval.tasks)
      lines.push(`  ${awaitingLine(a, status.generatedAt)}`);
  }
  if (status.stuck.length > 0) {
    lines.push('', 'Not being claimed:');
    for (const s of status.stuck) lines.push(`  ${s.taskId} [${s.type}] ${s.title}: ${s.message}`);
  }
  lines.push('', 'Recent failures:');
  if (status.recentFailures.length === 0) lines.push('  none');
  for (const f of status.recentFailures) {
    lines.push(`  ${f.taskId} [${f.type}] ${f.title}: ${f.error?.message ?? 'unknown error'}`);
  }
  return lines.join('\n');
}

function capabilityTable(status: SystemStatus): string {
  const depth = new Map(status.queues.map((q) => [q.name, q]));
  const names = [...new Set([...Object.keys(status.byType), ...depth.keys()])].sort();
  if (names.length === 0) return '  no tasks yet';
  const rows = names.map((name) => {
    const counts = status.byType[name];
    const queue = depth.get(name);
    const serving = status.agents.filter((a) => a.capabilities.includes(name)).length;
    return [
      name + (queue?.paused ? ' (paused)' : ''),
      ...BOARD_STATES.map((s) => counts?.[s] ?? 0),
      queue ? queue.waiting : '-',
      serving,
    ];
  });
  const head = ['capability', ...BOARD_STATES, 'queued', 'agents'];
  return renderTable(head, rows, { alignRight: head.map((_, i) => i).slice(1) });
}

function openBreakers(breakers: { [capability: string]: string }): string[] {
  return Object.entries(breakers)
    .filter(([, state]) => state !== 'closed')
    .map(([capability, state]) => `${capability} (${state})`);
}

/** `concurrency 4 (2 running), rate 60/1m, per key 2 (3 parked)`. */
function describeLimits(view: CapabilityLimitsView): string {
  const { limits } = view;
  return [
    limits.concurrency !== undefined
      ? `concurrency ${limits.concurrency} (${view.running} running)`
      : null,
    limits.rate ? `rate ${formatRate(limits.rate)}` : null,
    limits.perKey !== undefined
      ? `per key ${limits.perKey} (${view.keys?.parked ?? 0} parked)`
      : null,
  ]
    .filter(Boolean)
    .join(', ');
}

function budgetText(budget: { tokens?: number; costUsd?: number; wallMs?: number } | null): string {
  if (!budget) return '-';
  return Object.entries(budget)
    .map(([d, v]) => `${d} ${v}`)
    .join(', ');
}

/** `<id> <title>: since <ISO> (<n>s ago)[, <onTimeout> at <ISO>] — <prompt>` */
export function awaitingLine(a: AwaitingApproval, now: Date): string {
  const ago = Math.max(0, Math.round((now.getTime() - a.since.getTime()) / 1000));
  const timeout = a.deadline ? `, ${a.onTimeout}s at ${a.deadline.toISOString()}` : '';
  const prompt = a.prompt ? ` — ${a.prompt}` : '';
  return `${a.taskId} ${a.title}: since ${a.since.toISOString()} (${ago}s ago)${timeout}${prompt}`;
}
