/**
 * `/goals/:id`: the goal's DAG as an SVG (nodes coloured by state) and its task table, kept live
 * by a small inline script on `/api/events/stream?goalId=…` (the SSE stream replays from the seq
 * the page was rendered at, so nothing between render and connect is missed). Tasks added while it
 * is open (ctx.spawn, an extension) join the picture and the table from `GET /goals/:id/parts`
 * (goal-live.ts), spawned ones in a box under their spawner. Its budget and use
 * are shown under the title and follow `goals:budget`. Approval tasks awaiting a decision are
 * listed with since when; a full-token caller gets Approve / Reject buttons that call the REST
 * routes (a read-only one sees the list without them). A click on a node, a row or a timeline
 * bar opens the task's details (goal-details.ts: Cancel / Retry for the same full-token caller);
 * the timeline (goal-timeline.ts) shows when each task waited and ran. A replanning goal's repairs
 * are listed under "Revisions" (goal-revisions.ts) and marked on the picture, which also says on
 * each waiting node why it waits (graph-marks.ts).
 */
import { Router } from 'express';
import type { TaskRecord } from '../../entities/task-model';
import { formatUsage, goalBudgetView, type GoalBudgetView } from '../../interface/goal-budgets';
import { approvalStateOf, type ApprovalState } from '../../queues/approvals';
import { APPROVALS_QUEUE } from '../../queues/names';
import { callerOf } from '../auth';
import type { ApiContext } from '../routes/context';
import { loadGoal } from '../routes/goal-tasks';
import { DETAILS_STYLE, detailsDialog, detailsScript } from './goal-details';
import { liveScript } from './goal-live';
import { goalParts, TABLE_HEAD } from './goal-table';
import { renderTimeline } from './goal-timeline';
import { escapeHtml, page, scriptJson } from './layout';

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
    // Events carry no title: the table's row has it (a task the page has no row for yet: its id).
    const title = document.querySelector('tr[data-task-id="' + CSS.escape(e.taskId) + '"] td:nth-child(2)');
    item.querySelector('b').textContent = title ? title.textContent : e.taskId;
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
    const parts = goalParts(goal, tasks, await ctx.coordinator.getAllAgents());
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
            ` · <span id="task-count">${goal.taskCount}</span> tasks · <a href="/api/goals/${encodeURIComponent(goal.id)}/graph.svg">SVG</a></p>` +
            budgetParagraph(budget) +
            `<div id="goal-picture">${parts.picture}</div>` +
            `<p id="live-status" role="status"></p>` +
            `<div id="goal-revisions">${parts.revisions}</div>` +
            `<h3>Tasks</h3><table id="tasks">${TABLE_HEAD}<tbody id="task-rows">${parts.rows}</tbody></table>` +
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
  // The parts that grow with the goal, rendered again for the page's script (goal-live.ts).
  router.get('/goals/:id/parts', async (req, res) => {
    const seq = await ctx.store.lastSeq();
    const { goal, tasks } = await loadGoal(ctx.store, req.params.id);
    const parts = goalParts(goal, tasks, await ctx.coordinator.getAllAgents());
    res.json({ seq, taskCount: goal.taskCount, ...parts });
  });
  return router;
}
