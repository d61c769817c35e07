/**
 * The goal page's task details: a `<dialog>` that a click on a graph node, a table row or a
 * timeline row opens, filled by a small inline script from the REST API (`GET /api/tasks/:id`,
 * `…/events` for the attempts, `…/logs` for the job log). For a caller who may change things (the
 * full token, decided as for Approve / Reject) it has Cancel (a task not ended) and Retry (a
 * FAILED or CANCELLED task), which call the REST routes and show their answer, errors included.
 */
import { scriptJson } from './layout';

const ACTIONS =
  `<p class="d-actions"><button class="d-cancel" type="button" hidden>Cancel task</button>` +
  ` <button class="d-retry" type="button" hidden>Retry task</button></p>`;

/** The empty dialog; `canAct` adds the Cancel / Retry buttons. */
export function detailsDialog(canAct: boolean): string {
  return (
    `<dialog id="task-details" aria-labelledby="d-title">` +
    `<form method="dialog" class="d-close"><button>Close</button></form>` +
    `<h3 id="d-title"></h3><p class="d-status" role="status"></p>` +
    `<table class="d-fields"><tbody></tbody></table>` +
    (canAct ? ACTIONS : '') +
    `<p class="d-outcome" role="status"></p>` +
    `<h4>Data</h4><pre class="d-data"></pre>` +
    `<h4>Result</h4><pre class="d-result"></pre>` +
    `<h4>Error</h4><pre class="d-error"></pre>` +
    `<h4>Attempts</h4><table class="d-attempts"><thead><tr><th>#</th><th>Agent</th>` +
    `<th>Claimed</th><th>Started</th><th>Finished</th><th>Outcome</th><th>Error</th></tr>` +
    `</thead><tbody></tbody></table>` +
    `<h4>Log <span class="d-log-count"></span></h4><pre class="d-logs"></pre>` +
    `</dialog>`
  );
}

/** The dialog's own style: wide enough for a log, scrolls rather than overflowing the page. */
export const DETAILS_STYLE =
  `<style>#task-details{max-width:900px;width:90vw;max-height:85vh;overflow:auto}` +
  `#task-details pre{background:#f6f7f9;padding:6px;max-height:220px;overflow:auto;white-space:pre-wrap}` +
  `.d-close{float:right}g.task,tr[data-task-id],g.timeline-task{cursor:pointer}</style>`;

/**
 * Opens the dialog for the clicked task and fills it with `textContent` only (task data is
 * anyone's text). An SSE event of the open task (the page's `onTask`) reloads it. A failed load
 * or action is said in the dialog; nothing throws out of a handler.
 */
export function detailsScript(canAct: boolean): string {
  return `<script>
const detailsCanAct = ${scriptJson(canAct)};
const details = document.getElementById('task-details');
let detailsTaskId = null;
function showJson(selector, value) {
  const el = details.querySelector(selector);
  el.textContent = value === null || value === undefined ? '–' : JSON.stringify(value, null, 2);
}
async function getJson(url) {
  const res = await fetch(url, { credentials: 'same-origin' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((body.error && body.error.message) || 'HTTP ' + res.status);
  return body;
}
function fillFields(t) {
  const rows = [['id', t.id], ['key', t.key], ['type', t.type], ['state', t.state],
    ['attempt', t.attempt + ' of ' + t.attempts], ['agent', t.agentId || '–'],
    ['depends on', t.dependsOn.join(', ') || '–'], ['created', t.createdAt],
    ['claimed', t.claimedAt || '–'], ['started', t.startedAt || '–'], ['finished', t.finishedAt || '–']];
  const body = details.querySelector('.d-fields tbody');
  body.replaceChildren();
  for (const [name, value] of rows) {
    const tr = body.insertRow();
    tr.insertCell().textContent = name;
    const cell = tr.insertCell();
    cell.textContent = String(value);
    cell.className = 'd-' + name.replace(' ', '-');
  }
}
function fillAttempts(attempts) {
  const body = details.querySelector('.d-attempts tbody');
  body.replaceChildren();
  for (const a of attempts) {
    const tr = body.insertRow();
    tr.className = 'd-attempt';
    for (const v of [a.attempt, a.agentId, a.claimedAt, a.startedAt, a.finishedAt, a.outcome || 'running', a.error]) {
      tr.insertCell().textContent = v === null || v === undefined ? '–' : String(v);
    }
  }
  if (attempts.length === 0) body.insertRow().insertCell().textContent = 'No attempt yet.';
}
function fillActions(t) {
  if (!detailsCanAct) return;
  const ended = t.state === 'DONE' || t.state === 'FAILED' || t.state === 'CANCELLED';
  details.querySelector('.d-cancel').hidden = ended;
  details.querySelector('.d-retry').hidden = !(t.state === 'FAILED' || t.state === 'CANCELLED');
}
async function loadDetails(taskId) {
  const base = '/api/tasks/' + encodeURIComponent(taskId);
  details.querySelector('.d-status').textContent = 'loading…';
  try {
    const [one, history, log] = await Promise.all([getJson(base), getJson(base + '/events'), getJson(base + '/logs')]);
    if (detailsTaskId !== taskId) return;
    const t = one.task;
    details.querySelector('#d-title').textContent = t.key + ': ' + t.title;
    fillFields(t);
    showJson('.d-data', t.data);
    showJson('.d-result', t.result);
    showJson('.d-error', t.error);
    fillAttempts(history.attempts);
    details.querySelector('.d-logs').textContent = log.logs.join('\\n') || '(no lines)';
    details.querySelector('.d-log-count').textContent = '(' + log.logs.length + ' of ' + log.count + ' lines)';
    fillActions(t);
    details.dataset.state = t.state;
    details.querySelector('.d-status').textContent = '';
  } catch (error) {
    if (detailsTaskId === taskId) details.querySelector('.d-status').textContent = 'Could not load: ' + error.message;
  }
}
function openDetails(taskId) {
  detailsTaskId = taskId;
  details.dataset.taskId = taskId;
  const outcome = details.querySelector('.d-outcome');
  outcome.textContent = '';
  delete outcome.dataset.ok;
  if (!details.open) details.showModal();
  return loadDetails(taskId);
}
details.addEventListener('close', () => { detailsTaskId = null; });
document.addEventListener('click', (event) => {
  if (details.contains(event.target)) return;
  const target = event.target.closest('g.task[data-task-id], tr[data-task-id], g.timeline-task[data-task-id]');
  if (target) openDetails(target.dataset.taskId);
});
function outcomeOf(verb, answer) {
  if (verb === 'cancel') return 'cancelled ' + answer.cancelled + ' task(s)';
  if (answer.reopened) return 'goal re-opened: ' + answer.reopened.requeued.length + ' task(s) run again';
  return 'redriven from the dead-letter queue (epoch ' + answer.redrive.epoch + ')';
}
async function act(verb) {
  const taskId = detailsTaskId;
  const outcome = details.querySelector('.d-outcome');
  const buttons = details.querySelectorAll('.d-actions button');
  for (const b of buttons) b.disabled = true;
  outcome.textContent = verb + '…';
  delete outcome.dataset.ok;
  try {
    const res = await fetch('/api/tasks/' + encodeURIComponent(taskId) + '/' + verb, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json' }, body: '{}',
    });
    const answer = await res.json().catch(() => ({}));
    outcome.dataset.ok = String(res.ok);
    outcome.textContent = res.ok ? outcomeOf(verb, answer)
      : 'HTTP ' + res.status + ': ' + ((answer.error && answer.error.message) || res.statusText);
  } catch (error) {
    outcome.dataset.ok = 'false';
    outcome.textContent = 'failed: ' + error.message;
  } finally {
    for (const b of buttons) b.disabled = false;
  }
  if (taskId === detailsTaskId) await loadDetails(taskId);
}
if (detailsCanAct) {
  details.querySelector('.d-cancel').addEventListener('click', () => act('cancel'));
  details.querySelector('.d-retry').addEventListener('click', () => act('retry'));
}
// Events of the open task reload it, one load at a time: a burst (progress) costs two loads.
let detailsLoading = null;
let detailsAgain = false;
function onDetailsEvent(e) {
  if (!detailsTaskId || e.taskId !== detailsTaskId) return;
  if (detailsLoading) { detailsAgain = true; return; }
  detailsLoading = loadDetails(detailsTaskId).finally(() => {
    detailsLoading = null;
    if (detailsAgain) { detailsAgain = false; onDetailsEvent({ taskId: detailsTaskId }); }
  });
}
</script>`;
}
