/**
 * `/goals/:id`: the goal's DAG as an SVG (nodes coloured by state) and its task table, kept live
 * by a small inline script on `/api/events/stream?goalId=…` (the SSE stream replays from the seq
 * the page was rendered at, so nothing between render and connect is missed). Its budget and use
 * are shown under the title and follow `goals:budget`.
 */
import { Router } from 'express';
import type { TaskRecord } from '../../entities/task-model';
import { formatUsage, goalBudgetView, type GoalBudgetView } from '../../interface/goal-budgets';
import { MAX_GRAPH_TASKS, renderGoalSvg, STATE_COLOURS } from '../graph-svg';
import type { ApiContext } from '../routes/context';
import { loadGoal } from '../routes/goal-tasks';
import { escapeHtml, page, scriptJson } from './layout';

const TABLE_ROWS = 1000;

function taskRow(t: TaskRecord): string {
  return (
    `<tr data-task-id="${escapeHtml(t.id)}"><td>${escapeHtml(t.key)}</td>` +
    `<td>${escapeHtml(t.title)}</td><td>${escapeHtml(t.type)}</td>` +
    `<td class="state">${t.state}</td><td class="attempt">${t.attempt}</td>` +
    `<td class="agent">${escapeHtml(t.agentId ?? '')}</td></tr>`
  );
}

/** Recolours nodes and updates rows from SSE events; no framework, no build. */
function liveScript(goalId: string, after: number): string {
  return `<script>
const colours = ${scriptJson(STATE_COLOURS)};
const url = '/api/events/stream?goalId=' + encodeURIComponent(${scriptJson(goalId)}) + '&after=' + ${after};
const source = new EventSource(url);
function onTask(message) {
  const e = JSON.parse(message.data);
  for (const node of document.querySelectorAll('g.task[data-task-id="' + CSS.escape(e.taskId) + '"]')) {
    node.setAttribute('data-state', e.state);
    node.querySelector('rect').setAttribute('fill', colours[e.state]);
    node.querySelector('text.state').textContent = e.type + ' · ' + e.state;
  }
  const row = document.querySelector('tr[data-task-id="' + CSS.escape(e.taskId) + '"]');
  if (row) {
    row.querySelector('.state').textContent = e.state;
    row.querySelector('.attempt').textContent = e.attempt;
    if (e.agentId) row.querySelector('.agent').textContent = e.agentId;
  }
}
for (const name of ['new', 'claimed', 'updated', 'complete', 'failed', 'cancelled']) {
  source.addEventListener('tasks:' + name, onTask);
}
source.addEventListener('goals:complete', (message) => {
  document.getElementById('goal-state').textContent = JSON.parse(message.data).state;
});
// Budget crossings, pauses, resumes and budget changes: the state, and the use at that moment.
source.addEventListener('goals:budget', (message) => {
  const e = JSON.parse(message.data);
  document.getElementById('goal-state').textContent = e.state;
  const parts = [];
  for (const d of ['tokens', 'costUsd', 'wallMs']) {
    const used = e.usage[d] || 0;
    const limit = e.budget ? e.budget[d] : undefined;
    if (limit === undefined && used === 0) continue;
    parts.push(limit === undefined ? d + ' ' + used : d + ' ' + used + '/' + limit + ' (' + Math.round(used / limit * 100) + ' %)');
  }
  document.getElementById('goal-budget').textContent = parts.join(', ') || 'none';
});
</script>`;
}

/** Use against budget, live from Redis when it has the record; updated by `goals:budget`. */
function budgetParagraph(view: GoalBudgetView | null): string {
  const used = view ? formatUsage(view.usage, view.budget) : 'none';
  const held = view && view.held > 0 ? ` · ${view.held} tasks held while paused` : '';
  return `<p>Budget: <span id="goal-budget">${escapeHtml(used)}</span>${held}</p>`;
}

export function goalPageRouter(ctx: ApiContext): Router {
  const router = Router();
  router.get('/goals/:id', async (req, res) => {
    // Read the seq first: events after it are replayed by the stream, so none is lost.
    const after = await ctx.store.lastSeq();
    const { goal, tasks } = await loadGoal(ctx.store, req.params.id);
    const budget = await goalBudgetView(ctx.coordinator, goal);
    const picture =
      tasks.length <= MAX_GRAPH_TASKS
        ? `<div class="graph">${renderGoalSvg(tasks)}</div>`
        : `<p>${tasks.length} tasks: too many to draw (the picture stops at ${MAX_GRAPH_TASKS}).</p>`;
    const rows = tasks.slice(0, TABLE_ROWS).map(taskRow).join('');
    res
      .type('html')
      .send(
        page(
          goal.title,
          `<h2>${escapeHtml(goal.title)}</h2>` +
            `<p>Goal <code>${escapeHtml(goal.id)}</code> · state <span id="goal-state" class="state">${budget?.state ?? goal.state}</span>` +
            ` · ${goal.taskCount} tasks · <a href="/api/goals/${encodeURIComponent(goal.id)}/graph.svg">SVG</a></p>` +
            budgetParagraph(budget) +
            picture +
            `<h3>Tasks</h3><table id="tasks"><tr><th>Key</th><th>Title</th><th>Type</th><th>State</th>` +
            `<th>Attempt</th><th>Agent</th></tr>${rows}</table>` +
            liveScript(goal.id, after),
        ),
      );
  });
  return router;
}
