/**
 * The goal page's parts that grow with the goal: the DAG picture, the task table's rows and the
 * revisions. The page renders them at load and `GET /goals/:id/parts` renders them again, the
 * same way, when the page learns of a task it does not show (ctx.spawn, an extension, a repair);
 * see goal-live.ts.
 */
import type { AgentInfo, GoalRecord, TaskRecord } from '../../entities/task-model';
import { describeStuckReason, type StuckReason } from '../../interface/interface-diagnosis';
import { taskKeyOf } from '../../mirror/channel-payload';
import { revisionsOf } from '../../queues/revisions';
import { type GraphMarks, NO_MARKS, repairLinks, waitBadge, waitReasons } from '../graph-marks';
import { MAX_GRAPH_TASKS, renderGoalSvg } from '../graph-svg';
import { revisionsSection } from './goal-revisions';
import { escapeHtml } from './layout';

/** Rows the table shows at most. */
export const TABLE_ROWS = 1000;

export const TABLE_HEAD =
  `<thead><tr><th>Key</th><th>Title</th><th>Type</th><th>Spawned by</th><th>State</th>` +
  `<th>Attempt</th><th>Agent</th><th>Waiting because</th></tr></thead>`;

function taskRow(t: TaskRecord, reason: StuckReason | undefined): string {
  // The kind lets the page's script drop a reason that no longer holds (goal-live.ts).
  const kind = reason ? ` data-waiting="${reason.kind}"` : '';
  const spawned = t.spawnedBy
    ? ` class="spawned" data-spawned-by="${escapeHtml(t.spawnedBy)}"`
    : '';
  return (
    `<tr data-task-id="${escapeHtml(t.id)}"${spawned}><td>${escapeHtml(t.key)}</td>` +
    `<td>${escapeHtml(t.title)}</td><td>${escapeHtml(t.type)}</td>` +
    `<td class="spawned-by">${t.spawnedBy ? escapeHtml(taskKeyOf(t.spawnedBy)) : ''}</td>` +
    `<td class="state">${t.state}</td><td class="attempt">${t.attempt}</td>` +
    `<td class="agent">${escapeHtml(t.agentId ?? '')}</td>` +
    `<td class="wait-reason"${kind}>${reason ? escapeHtml(describeStuckReason(reason)) : ''}</td></tr>`
  );
}

function rowsOf(tasks: readonly TaskRecord[], reasons: ReadonlyMap<string, StuckReason>): string {
  return tasks
    .slice(0, TABLE_ROWS)
    .map((t) => taskRow(t, reasons.get(t.id)))
    .join('');
}

/** The first TABLE_ROWS rows, each waiting task with why it is not claimed (as `task show`). */
export function taskRows(tasks: readonly TaskRecord[], agents: readonly AgentInfo[]): string {
  return rowsOf(tasks, waitReasons(tasks, agents));
}

/** What the marks drawn explain, one line; '' when nothing is marked. */
export function graphLegend(tasks: readonly TaskRecord[], marks: GraphMarks): string {
  const items: Array<[kind: string, text: string]> = [];
  if (marks.replacedBy.size > 0) {
    items.push(['replaced', 'dashed red outline: failed, replaced by a repair (see Revisions)']);
  }
  if (marks.replaces.size > 0) items.push(['replacement', 'green outline: a repair’s replacement']);
  const stuck = (t: TaskRecord) => {
    const reason = marks.waiting.get(t.id);
    return reason !== undefined && waitBadge(reason) !== null;
  };
  // The page's script drops this item with the last badge (goal-live.ts).
  if (tasks.some(stuck)) {
    items.push(['stuck', 'red badge: nothing claims the task as things stand (hover for why)']);
  }
  if (items.length === 0) return '';
  const spans = items.map(
    ([kind, text]) => `<span class="legend-${kind}">${escapeHtml(text)}</span>`,
  );
  return `<p class="graph-legend">${spans.join(' · ')}</p>`;
}

/** The DAG as inline SVG with its legend, or a note past MAX_GRAPH_TASKS. */
export function goalPicture(tasks: readonly TaskRecord[], marks: GraphMarks = NO_MARKS): string {
  return tasks.length <= MAX_GRAPH_TASKS
    ? `<div class="graph">${renderGoalSvg(tasks, marks)}</div>${graphLegend(tasks, marks)}`
    : `<p>${tasks.length} tasks: too many to draw (the picture stops at ${MAX_GRAPH_TASKS}).</p>`;
}

export interface GoalParts {
  picture: string;
  rows: string;
  /** The "Revisions" section, '' for a goal without any. */
  revisions: string;
}

/**
 * Everything of the page that grows with the goal, the wait reasons diagnosed once for the table
 * and the picture. Only a replanning goal has revisions (a task's own data could look like one).
 */
export function goalParts(
  goal: Pick<GoalRecord, 'plan'>,
  tasks: readonly TaskRecord[],
  agents: readonly AgentInfo[],
): GoalParts {
  const revisions = goal.plan.onFailure === 'replan' ? revisionsOf(tasks) : [];
  const waiting = waitReasons(tasks, agents);
  return {
    picture: goalPicture(tasks, { ...repairLinks(revisions), waiting }),
    rows: rowsOf(tasks, waiting),
    revisions: revisionsSection(revisions),
  };
}
