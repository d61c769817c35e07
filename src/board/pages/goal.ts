/**
 * `/goals/:id`: the goal's DAG as an SVG (nodes coloured by state) and its task table, kept live
 * by a small inline script on `/api/events/stream?goalId=…` (the SSE stream replays from the seq
 * the page was rendered at, so nothing between render and connect is missed). Its budget and use
 * are shown under the title and follow `goals:budget`. Approval tasks awaiting a decision are
 * listed with since when; a full-token caller gets Approve / Reject buttons that call the REST
 * routes (a read-only one sees the list without them). A click on a node, a row or a timeline
 * bar opens the task's details (goal-details.ts: Cancel / Retry for the same full-token caller);
 * the timeline (goal-timeline.ts) shows when each task waited and ran.
 */
import { Router } from 'express';
import type { TaskRecord } from '../../entities/task-model';
import { formatUsage, goalBudgetView, type GoalBudgetView } from '../../interface/goal-budgets';
import { approvalStateOf, type ApprovalState } from '../../queues/approvals';
import { APPROVALS_QUEUE } from '../../queues/names';
import { callerOf } from '../auth';
import { MAX_GRAPH_TASKS, renderGoalSvg, STATE_COLOURS } from '../graph-svg';
import type { ApiContext } from '../routes/context';
import { loadGoal } from '../routes/goal-tasks';
import { describeStuckReason, diagnoseTask } from '../../interface/interface-diagnosis';
import { DETAILS_STYLE, detailsDialog, detailsScript } from './goal-details';
import { renderTimeline } from './goal-timeline';
import { escapeHtml, page, scriptJson } from './layout';

const TABLE_ROWS = 1000;

function taskRow(t: TaskRecord, waitReason: string): string {
  return (
    `<tr data-task-id="${escapeHtml(t.id)}"><td>${escapeHtml(t.key)}</td>` +
    `<td>${escapeHtml(t.title)}</td><td>${escapeHtml(t.type)}</td>` +
    `<td class="state">${t.state}</td><td class="attempt">${t.attempt}</td>` +
    `<td class="agent">${escapeHtml(t.agentId ?? '')}</td>` +
    `<td class="wait-reason">${escapeHtml(waitReason)}</td></tr>`
  );
}

/** One approval task awaiting a decision: what it asks, since when, and (full token) buttons. */
function approvalItem(t: TaskRecord, a: ApprovalState | null, canDecide: boolean): string {
  const since = a?.awaitingSince ? ` · since <time>${a.awaitingSince.toISOString()}</time>` : '';
  const timeout = a?.deadline
    ? ` · ${a.onTimeout}s at <time>${a.deadline.toISOString()}</time> unless decided`
    : '';
  const prompt = a?.prompt ? ` — <span class="prompt">${escapeHtml(a.prompt)}</span>` : '';
  return (
    `<li data-approval="${escapeHtml(t.id)}"><b>${escapeHtml(t.title)}</b>${prompt}${since}${timeout}` +
    (canDecide ? APPROVAL_CONTROLS : '') +
    ` <span class="outcome"></span></li>`
  );
}

const APPROVAL_CONTROLS =
  ` <input class="note" placeholder="note or reason" aria-label="note or reason">` +
  ` <button class="approve" type="button">Approve</button>` +
  ` <button class="reject" type="button">Reject</button>`;

/** The "Awaiting approval" list: the approval tasks of the goal waiting for a decision. */
function approvalSection(items: string[]): string {
  return (
    `<h3>Awaiting approval</h3><ul id="approvals">${items.join('')}</ul>` +
    (items.length === 0 ? '<p id="no-approvals">Nothing awaits approval.</p>' : '')
  );
}

/**
 * Approve / Reject call the REST routes from this page (same origin, the session cookie); an
 * approval task that starts to wait after the page was drawn joins the list from the stream.
 */
function approvalScript(canDecide: boolean): string {
  return `<script>
const canDecide = ${scriptJson(canDecide)};
const controls = ${scriptJson(APPROVAL_CONTROLS)};
async function decide(item, verb) {
  const text = item.querySelector('.note').value;
  const body = verb === 'approve' ? (text ? { note: text } : {}) : (text ? { reason: text } : {});
  for (const b of item.querySelectorAll('button')) b.disabled = true;
  const res = await fetch('/api/tasks/' + encodeURIComponent(item.dataset.approval) + '/' + verb, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const answer = await res.json().catch(() => ({}));
  const outcome = item.querySelector('.outcome');
  if (res.ok) {
    outcome.textContent = (verb === 'approve' ? 'approved' : 'rejected') + ' by ' + answer.by;
    for (const c of item.querySelectorAll('button, input')) c.remove();
  } else {
    outcome.textContent = (answer.error && answer.error.message) || ('HTTP ' + res.status);
    for (const b of item.querySelectorAll('button')) b.disabled = false;
  }
}
document.getElementById('approvals').addEventListener('click', (event) => {
  const button = event.target.closest('button');
  if (!button) return;
  decide(button.closest('li'), button.classList.contains('approve') ? 'approve' : 'reject');
});
function onApproval(e) {
  if (e.type !== ${scriptJson(APPROVALS_QUEUE)}) return;
  let item = document.querySelector('li[data-approval="' + CSS.escape(e.taskId) + '"]');
  if (e.state === 'PENDING' && !item) {
    item = document.createElement('li');
    item.dataset.approval = e.taskId;
    item.innerHTML = '<b></b> · since <time></time>' + (canDecide ? controls : '') + ' <span class="outcome"></span>';
    item.querySelector('b').textContent = e.title || e.taskId;
    item.querySelector('time').textContent = e.at || new Date().toISOString();
    document.getElementById('approvals').appendChild(item);
    const none = document.getElementById('no-approvals');
    if (none) none.remove();
  } else if (item && e.state !== 'PENDING') {
    for (const c of item.querySelectorAll('button, input')) c.remove();
    if (!item.querySelector('.outcome').textContent) item.querySelector('.outcome').textContent = e.state;
  }
}
</script>`;
}

/** Recolours nodes and updates rows from SSE events; no framework, no build. */
function liveScript(goalId: string, after: number): string {
  return `<script>
const colours = ${scriptJson(STATE_COLOURS)};
const url = '/api/events/stream?goalId=' + encodeURIComponent(${scriptJson(goalId)}) + '&after=' + ${after};
const source = new EventSource(url);
function onTask(message) {
  const e = JSON.parse(message.data);
  if (typeof onApproval === 'function') onApproval(e);
  if (typeof onDetailsEvent === 'function') onDetailsEvent(e);
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
    // Why each waiting task is not claimed, as `task show` diagnoses it (rendered once per load).
    const agents = await ctx.coordinator.getAllAgents();
    const depStates = new Map(tasks.map((t) => [t.key, t.state]));
    const rows = tasks
      .slice(0, TABLE_ROWS)
      .map((t) => {
        const reason = diagnoseTask(t, {
          agents,
          pausedQueues: new Set(),
          dependencyStates: depStates,
        });
        return taskRow(t, reason ? describeStuckReason(reason) : '');
      })
      .join('');
    // Only a caller who may change things (the full token) gets the Approve / Reject buttons,
    // and Cancel / Retry in the task details.
    const canDecide = callerOf(res).canMutate;
    const waiting = tasks.filter((t) => t.type === APPROVALS_QUEUE && t.state === 'PENDING');
    const states = await Promise.all(waiting.map((t) => approvalStateOf(ctx.coordinator, t.id)));
    const approvals = waiting.map((t, i) => approvalItem(t, states[i] ?? null, canDecide));
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
            `<th>Attempt</th><th>Agent</th><th>Waiting because</th></tr>${rows}</table>` +
            approvalSection(approvals) +
            `<h3>Timeline</h3>${renderTimeline(tasks, new Date())}` +
            DETAILS_STYLE +
            detailsDialog(canDecide) +
            approvalScript(canDecide) +
            detailsScript(canDecide) +
            liveScript(goal.id, after),
        ),
      );
  });
  return router;
}
