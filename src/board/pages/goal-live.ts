/**
 * The goal page's live script: SSE events recolour nodes and update rows; a `new` event of a task
 * the page does not show (ctx.spawn, an extension, a repair's patch) fetches `GET /goals/:id/parts`
 * — the picture, the rows and the revisions rendered by the server as at load — and swaps them
 * in, one fetch at a time. Events newer than what the parts were read at are applied again on
 * top, so nothing goes back in time.
 */
import { STATE_COLOURS } from '../graph-svg';
import { scriptJson } from './layout';
import { TABLE_ROWS } from './goal-table';

export function liveScript(goalId: string, after: number): string {
  return `<script>
const colours = ${scriptJson(STATE_COLOURS)};
const goalPath = '/goals/' + encodeURIComponent(${scriptJson(goalId)});
const url = '/api/events/stream?goalId=' + encodeURIComponent(${scriptJson(goalId)}) + '&after=' + ${after};
const source = new EventSource(url);
// The last event of each task: applied again after the parts are swapped in.
const latest = new Map();
// Reasons are diagnosed at render (the nodes' and rows' data-waiting): a task no longer waiting
// has none, and one queued (PENDING) no longer waits on its dependencies.
function reasonGone(kind, state) {
  return (state !== 'BACKLOG' && state !== 'PENDING') || (kind === 'dependencies' && state !== 'BACKLOG');
}
function applyTask(e) {
  const id = CSS.escape(e.taskId);
  for (const node of document.querySelectorAll('g.task[data-task-id="' + id + '"]')) {
    node.setAttribute('data-state', e.state);
    node.querySelector('rect').setAttribute('fill', colours[e.state]);
    node.querySelector('text.state').textContent = e.type + ' · ' + e.state;
    if (node.hasAttribute('data-waiting') && reasonGone(node.getAttribute('data-waiting'), e.state)) {
      node.removeAttribute('data-waiting');
      const badge = node.querySelector('.wait-badge');
      if (badge) badge.remove();
      node.classList.remove('stuck');
      const title = node.querySelector(':scope > title');
      title.textContent = title.textContent.split('\\n')[0];
      const legend = document.querySelector('.graph-legend .legend-stuck');
      if (legend && !document.querySelector('g.task.stuck')) legend.remove();
    }
  }
  const row = document.querySelector('tr[data-task-id="' + id + '"]');
  if (row) {
    row.querySelector('.state').textContent = e.state;
    row.querySelector('.attempt').textContent = e.attempt;
    if (e.agentId) row.querySelector('.agent').textContent = e.agentId;
    const reason = row.querySelector('.wait-reason');
    if (reasonGone(reason.getAttribute('data-waiting'), e.state)) {
      reason.removeAttribute('data-waiting');
      reason.textContent = '';
    }
  }
}
function shown(taskId) {
  const id = CSS.escape(taskId);
  return document.querySelector('tr[data-task-id="' + id + '"], g.task[data-task-id="' + id + '"]') !== null;
}
let redrawing = null;
let redrawAgain = false;
async function fetchParts() {
  const status = document.getElementById('live-status');
  try {
    const res = await fetch(goalPath + '/parts', { credentials: 'same-origin' });
    const parts = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((parts.error && parts.error.message) || 'HTTP ' + res.status);
    if (typeof parts.picture !== 'string') throw new Error('no parts in the answer');
    document.getElementById('goal-picture').innerHTML = parts.picture;
    document.getElementById('task-rows').innerHTML = parts.rows;
    document.getElementById('goal-revisions').innerHTML = parts.revisions;
    document.getElementById('task-count').textContent = parts.taskCount;
    for (const e of latest.values()) if (e.seq > parts.seq) applyTask(e);
    status.textContent = '';
  } catch (error) {
    status.textContent = 'Could not redraw the new tasks: ' + error.message;
  }
}
function redraw() {
  if (redrawing) { redrawAgain = true; return; }
  redrawing = fetchParts().finally(() => {
    redrawing = null;
    if (redrawAgain) { redrawAgain = false; redraw(); }
  });
}
function onTask(message) {
  const e = JSON.parse(message.data);
  latest.set(e.taskId, e);
  if (typeof onApproval === 'function') onApproval(e);
  if (typeof onDetailsEvent === 'function') onDetailsEvent(e);
  applyTask(e);
  // A full table gains no row: the task count alone would change.
  const full = document.querySelectorAll('#task-rows tr').length >= ${TABLE_ROWS};
  if (e.event === 'new' && !shown(e.taskId) && !full) redraw();
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
