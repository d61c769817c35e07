/**
 * The goal page's parts that grow with the goal: the DAG picture and the task table's rows. The
 * page renders them at load and `GET /goals/:id/parts` renders them again, the same way, when the
 * page learns of a task it does not show (ctx.spawn, an extension); see goal-live.ts.
 */
import type { AgentInfo, TaskRecord } from '../../entities/task-model';
import { describeStuckReason, diagnoseTask } from '../../interface/interface-diagnosis';
import { taskKeyOf } from '../../mirror/channel-payload';
import { MAX_GRAPH_TASKS, renderGoalSvg } from '../graph-svg';
import { escapeHtml } from './layout';

/** Rows the table shows at most. */
export const TABLE_ROWS = 1000;

export const TABLE_HEAD =
  `<thead><tr><th>Key</th><th>Title</th><th>Type</th><th>Spawned by</th><th>State</th>` +
  `<th>Attempt</th><th>Agent</th><th>Waiting because</th></tr></thead>`;

function taskRow(t: TaskRecord, waitReason: string): string {
  const spawned = t.spawnedBy
    ? ` class="spawned" data-spawned-by="${escapeHtml(t.spawnedBy)}"`
    : '';
  return (
    `<tr data-task-id="${escapeHtml(t.id)}"${spawned}><td>${escapeHtml(t.key)}</td>` +
    `<td>${escapeHtml(t.title)}</td><td>${escapeHtml(t.type)}</td>` +
    `<td class="spawned-by">${t.spawnedBy ? escapeHtml(taskKeyOf(t.spawnedBy)) : ''}</td>` +
    `<td class="state">${t.state}</td><td class="attempt">${t.attempt}</td>` +
    `<td class="agent">${escapeHtml(t.agentId ?? '')}</td>` +
    `<td class="wait-reason">${escapeHtml(waitReason)}</td></tr>`
  );
}

/** The first TABLE_ROWS rows, each waiting task with why it is not claimed (as `task show`). */
export function taskRows(tasks: readonly TaskRecord[], agents: readonly AgentInfo[]): string {
  const dependencyStates = new Map(tasks.map((t) => [t.key, t.state]));
  return tasks
    .slice(0, TABLE_ROWS)
    .map((t) => {
      const reason = diagnoseTask(t, { agents, pausedQueues: new Set(), dependencyStates });
      return taskRow(t, reason ? describeStuckReason(reason) : '');
    })
    .join('');
}

/** The DAG as inline SVG, or a note past MAX_GRAPH_TASKS. */
export function goalPicture(tasks: readonly TaskRecord[]): string {
  return tasks.length <= MAX_GRAPH_TASKS
    ? `<div class="graph">${renderGoalSvg(tasks)}</div>`
    : `<p>${tasks.length} tasks: too many to draw (the picture stops at ${MAX_GRAPH_TASKS}).</p>`;
}
